"""Answers to the page's script (htmx): a part of the page where a whole page would be sent.

htmx sends `HX-Request: true` and swaps in what comes back; `HX-Retarget` and `HX-Reswap`
say where, when the answer is not the result panel the form asked for.
"""

from flask import request

# The result panel beside the form (console/_result.html has this id).
RESULT = {"HX-Retarget": "#result", "HX-Reswap": "outerHTML show:#result:top"}
# The request half of the workbench: the form, with its messages.
FORM = {"HX-Retarget": "#request", "HX-Reswap": "innerHTML"}
# Another page in place of this one (the walk-through's pause, "sign in again").
WHOLE_PAGE = {"HX-Retarget": "body", "HX-Reswap": "innerHTML show:window:top"}


def wanted():
    """Tell whether the page's script sent this request and swaps in a part of a page."""
    return request.headers.get("HX-Request") == "true"


def vary(response):
    """Say that this URL answers the script and a plain form differently (for caches)."""
    response.vary.add("HX-Request")
    return response
