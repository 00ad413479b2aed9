"""One structured line per request and per upstream call; never a token, code or cookie."""

import logging
import re
import time

from flask import g
from flask import request
from flask.logging import default_handler

log = logging.getLogger("app.request")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def init_app(app):
    default_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    app.logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # authlib's client logs the PKCE verifier at DEBUG; keep it out whatever LOG_LEVEL says.
    logging.getLogger("authlib").setLevel(logging.INFO)
    app.before_request(start_clock)
    app.after_request(log_request)


def clean(value, limit=200):
    """Make a value safe for a one-line log: no control characters, bounded."""
    text = CONTROL.sub("?", str(value))
    return text if len(text) <= limit else text[:limit] + "…"


def start_clock():
    g.started = time.perf_counter()


def log_request(response):
    # The path only: a query string can hold a code or state (/callback?code=…).
    started = g.get("started", time.perf_counter())
    log.info(
        "request method=%s path=%s status=%s ms=%.1f request_id=%s user=%s",
        request.method,
        clean(request.path),
        response.status_code,
        (time.perf_counter() - started) * 1000,
        g.get("request_id", "-"),
        (g.get("user") or {}).get("sub", "-"),
    )
    return response
