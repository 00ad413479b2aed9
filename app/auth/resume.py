"""Kept forms: an invoke form sent as its user's session ended is put back after signing in,
and one that was not invoked (a save that asks first, or fails) comes back on its page."""

import secrets
from urllib.parse import urlsplit

from flask import current_app
from flask import g
from flask import request
from flask import session

# Forms whose input is put back after signing in again; nothing is sent until Invoke.
RESUMABLE = {"console.function", "console.event"}


def keep_form():
    """Keep an invoke form sent as a session ended for its user; say whether it was kept."""
    if request.method != "POST" or request.endpoint not in RESUMABLE:
        return False
    # Only for the user who was signed in here (never a session that was not), and only a
    # form from our own pages: another site's form would prefill our page.
    owner = session.get("ended_sub")
    if owner is None or not same_origin():
        return False
    fields = [[k, v] for k, v in request.form.items(multi=True) if k != "csrf_token"]
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
    return pending["fields"] if pending.get("sub") == g.user["sub"] else None


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
