"""Error pages in the site's style, with a correlation id and never a stack trace."""

from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask import session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import SecurityError

from app import htmx
from app.auth.resume import RESUMABLE
from app.auth.resume import TooLongToKeep
from app.auth.resume import keep_form
from app.auth.tokens import RefreshFailed
from app.auth.tokens import SignInRequired
from app.auth.views import end_session
from app.store import StoreError
from liveperson_functions.breaker import CircuitOpen
from liveperson_functions.discovery import DiscoveryError

PAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Sign-in required", "Sign in to continue."),
    403: ("Not allowed", "Your account is not allowed to do this."),
    404: ("Not found", "There is nothing at this address. Check the link."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    413: (
        "Too large",
        "What you sent is larger than this app accepts (a payload may be at most 256 KB), so "
        "nothing was sent to LivePerson.",
    ),
    500: ("Something went wrong", "An unexpected error happened on our side. Try again."),
    503: ("Service unavailable", "A service this page needs is unavailable. Try again shortly."),
}


def init_app(app):
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(DiscoveryError, discovery_error)
    app.register_error_handler(SignInRequired, sign_in_required)
    app.register_error_handler(RefreshFailed, refresh_failed)
    app.register_error_handler(StoreError, store_error)
    app.register_error_handler(CircuitOpen, circuit_open)
    app.register_error_handler(Exception, unexpected_error)


def page(status, text=None, title=None, retry_after=None, sign_in=False, back=False):
    default_title, default_text = PAGES.get(status, PAGES[400 if status < 500 else 500])
    if "user" not in g:
        # Failed before load_user ran (a 413, a CSRF check): the header still shows who it is.
        g.user = session.get("user")
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    template = "errors/error.html"
    if htmx.wanted():
        # For the page's script: in the result panel, beside the form and what was typed;
        # signing in again is another page, unless what was typed could not be kept.
        in_panel = not sign_in or back
        headers |= htmx.RESULT if in_panel else htmx.WHOLE_PAGE
        headers["Vary"] = "HX-Request"
        template = "errors/_result.html" if in_panel else template
    body = render_template(
        template,
        status=status,
        title=title or default_title,
        text=text or default_text,
        request_id=g.get("request_id"),
        sign_in=sign_in,
        back=back or status == 413,
    )
    return body, status, headers


def http_error(error):
    if isinstance(error, SecurityError):
        # An untrusted Host header: no URLs can be built for it, so answer in plain text.
        return (
            "Bad request: this host name is not served here.",
            400,
            {"Content-Type": "text/plain"},
        )
    if error.code in PAGES:
        return page(error.code)
    return page(error.code, "The request could not be completed.", title=error.name)


def csrf_error(error):
    # The CSRF check runs before load_user, so g.user is not set yet: ask the session.
    if session.get("user") is None and request.endpoint in RESUMABLE:
        try:
            kept = keep_form()
        except TooLongToKeep:
            where = "copy it from the form" if htmx.wanted() else "go back, copy it"
            return page(
                400,
                "You are signed out, so this form was not sent. What you typed is too long to "
                f"keep while you sign in: {where}, then sign in again.",
                title="Sign in again",
                sign_in=True,
                back=True,
            )
        if kept:
            return page(
                400,
                "You are signed out, so this form was not sent. Sign in again: what you typed "
                "will be back on the page, and nothing is sent until you press Invoke.",
                title="Sign in again",
                sign_in=True,
            )
    return page(
        400,
        "This form expired or did not come from this app. Reload the page and try again.",
        title="Form expired",
    )


def discovery_error(error):
    current_app.logger.warning("discovery failed: %s", error)
    return page(503, str(error), title="LivePerson service not found", retry_after=30)


def sign_in_required(error):
    end_session()
    text = str(error)
    try:
        kept = keep_form()
    except TooLongToKeep:
        kept = False
    if kept:
        text += " What you typed will be back on the page; nothing was sent."
    return page(401, text, title="Sign in again", sign_in=True)


def refresh_failed(error):
    current_app.logger.warning("token refresh failed: %s", error)
    return page(
        503,
        "LivePerson's sign-in service did not answer while renewing your access. You are "
        "still signed in. Try again in a moment.",
        retry_after=5,
    )


def store_error(error):
    current_app.logger.error("session store unavailable: %s", error)
    return page(503, "The session store is unavailable. Try again shortly.", retry_after=5)


def circuit_open(error):
    names = {"faasGW": "The Functions gateway", "faasUI": "LivePerson's functions list"}
    who = names.get(error.name, error.name)
    return page(
        503,
        f"{who} failed several times in a row, so this app stops calling it for "
        f"{error.retry_after} s to let it recover. Try again then.",
        retry_after=error.retry_after,
    )


def unexpected_error(error):
    current_app.logger.error(
        "unhandled error on %s %s [%s]",
        request.method,
        request.path,
        g.get("request_id", "-"),
        exc_info=error,
    )
    return page(InternalServerError.code)
