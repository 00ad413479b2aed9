"""Security headers and a correlation id on every response, errors included."""

import re
import uuid

from flask import current_app
from flask import g
from flask import request

CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def init_app(app):
    app.before_request(assign_request_id)
    app.after_request(add_headers)


def assign_request_id():
    """Take the proxy's X-Request-ID when it is well-formed, else make one."""
    # Only behind a trusted proxy (LP_PROXY_HOPS), which sets it: a client must not choose
    # the id the logs are searched by.
    trusted = current_app.config["LP_PROXY_HOPS"] > 0
    given = request.headers.get("X-Request-ID", "") if trusted else ""
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def add_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF's https check needs a same-origin Referer.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Pages of a signed-in user are not kept; the static files (the same for all) may be.
    private = g.get("user") and request.endpoint != "static"
    if private or request.endpoint in ("auth.callback", "auth.login"):
        headers["Cache-Control"] = "no-store"
    if "request_id" in g:
        headers["X-Request-ID"] = g.request_id
    return response
