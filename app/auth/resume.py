"""Kept forms: an invoke form sent as its user's session ended is put back after signing in,
and one that was not invoked (a save that asks first, or fails) comes back on its page."""

import json
import secrets
from urllib.parse import urlsplit

from flask import current_app
from flask import g
from flask import request
from flask import session

# Forms whose input is put back after signing in again; nothing is sent until Invoke.
RESUMABLE = {"console.function", "console.event"}


# A form kept for a browser that is signed out with no known user (its cookies were cleared)
# rides in its own encrypted cookie, never in the store: at most this many bytes of fields.
MAX_OWNERLESS_FORM = 2000


class TooLongToKeep(Exception):
    """A signed-out browser's form is too long to carry in its cookie while it signs in."""


def keep_form():
    """Keep an invoke form sent as a session ended (or by a browser signed out) for whoever
    typed it; say whether it was kept. TooLongToKeep when it could not be."""
    if request.method != "POST" or request.endpoint not in RESUMABLE or g.get("user"):
        return False
    # Only a form from our own pages: another site's form would prefill our page.
    if not same_origin():
        return False
    fields = [[k, v] for k, v in request.form.items(multi=True) if k != "csrf_token"]
    # The user whose session ended here; None for a browser whose cookies were cleared (the
    # form then goes to whoever signs in next in this browser, and stays in its cookie).
    owner = session.get("ended_sub")
    if owner is None and len(json.dumps(fields)) > MAX_OWNERLESS_FORM:
        raise TooLongToKeep
    session["pending_form"] = {"path": request.path, "fields": fields, "sub": owner}
    return True


def same_origin():
    """Tell whether the browser says this request came from our own pages."""
    # Sec-Fetch-Site, else Origin, else Referer: a request that says none of them is not.
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    own = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own
    referer = urlsplit(request.headers.get("Referer", ""))
    return bool(referer.netloc) and f"{referer.scheme}://{referer.netloc}" == own


def take_pending_form():
    """Return the fields kept for this page and this user, once, or None."""
    pending = session.get("pending_form")
    if not pending or pending.get("path") != request.path:
        return None
    session.pop("pending_form")
    return pending["fields"] if pending.get("sub") in (None, g.user["sub"]) else None


# Seconds a typed form waits server-side for its page (reload and Back show it again).
TYPED_TTL = 3600


def keep_typed(form):
    """Keep a posted invoke form server-side, for its page to show again; return its id."""
    typed_id = secrets.token_urlsafe(12)
    fields = [[k, v] for k, v in form.items(multi=True) if k not in ("csrf_token", "replace")]
    current_app.extensions["store"].set(typed_key(typed_id), {"fields": fields}, TYPED_TTL)
    return typed_id


def typed_fields(typed_id):
    """Return the fields of a form this user's browser kept as `typed_id`, or None."""
    if not typed_id:
        return None
    found = current_app.extensions["store"].get(typed_key(typed_id))
    return found["fields"] if found else None


def typed_key(typed_id):
    return f"typed-form:{g.user['sub']}:{typed_id}"
