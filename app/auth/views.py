"""Sign-in with Sentinel (authorization code, state, PKCE), sign-out, and `login_required`."""

import contextlib
import functools
import secrets
import time
from urllib.parse import unquote
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from app import htmx
from app import sessions
from app.audit import record as audit
from app.auth import flow
from app.auth import oauth
from app.auth import sentinel
from app.auth import tokens
from app.auth.resume import TooLongToKeep
from app.auth.resume import keep_form
from liveperson_functions.breaker import CircuitOpen

bp = Blueprint("auth", __name__)

CANCELLED = ("Sign-in cancelled", "You cancelled signing in to LivePerson. Nothing was changed.")
UNAVAILABLE = (
    "Sign-in service unavailable",
    "LivePerson's sign-in service could not complete the sign-in just now. Try again later.",
)


def unavailable(exc):
    title, text = UNAVAILABLE
    return title, f"LivePerson's sign-in service {sentinel.why(exc)}. Try again later."


EXPIRED = (
    "Sign-in expired",
    "This sign-in link is no longer valid: it was used already, is too old, or was started in "
    "another browser. Start again.",
)
FAILED = ("Sign-in failed", "LivePerson did not accept this sign-in. Start again.")
MISCONFIGURED = (
    "This app cannot sign anyone in",
    "LivePerson refused this app's own sign-in settings (its client id or secret), so signing "
    "in again will not help. Tell whoever runs this app: the details are in its log and on its "
    "self-check page.",
)


EXPIRY_SOURCES = {
    "expires_in": "the token answer's expires_in",
    "access_token": "the access token's exp claim",
    "id_token": "the id token's exp claim",
    "default": "the default 30-minute cadence (the answer gave no lifetime)",
}


@bp.app_template_filter("expiry_source")
def expiry_source(source):
    """Say where a token's expiry was taken from."""
    return EXPIRY_SOURCES.get(source, EXPIRY_SOURCES["default"])


def init_app(app):
    """Register the Sentinel client and the sign-in routes."""
    oauth.register(app)
    # The client authentication Sentinel accepted, once learned (see sentinel.with_client_auth).
    app.extensions["sentinel_client_auth"] = {}
    app.before_request(load_user)
    app.register_blueprint(bp)


def safe_next(value):
    """Return `value` if it is a same-site relative path, else "/"."""
    if not value or len(value) > 2048:
        return "/"
    # Check the decoded form too: /%2F%2Fevil.test and /%5Cevil.test must not slip through.
    for candidate in (value, unquote(value)):
        if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
            return "/"
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
            return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def load_user():
    """Put the signed-in user on `g`, ending sessions past their idle or absolute limit."""
    g.user = session.get("user")
    if g.user is None:
        return
    now, config = time.time(), current_app.config
    if (
        now - session.get("auth_time", 0) > config["LP_MAX_SESSION"]
        or now - session.get("last_seen", 0) > config["LP_IDLE_TIMEOUT"]
    ):
        end_session()
        flash("Your session timed out. Sign in again to continue.")
        g.user = None
    elif now - session["last_seen"] > 60:
        # Written at most once a minute: sessions are not rewritten on every request.
        session["last_seen"] = now


def login_required(view):
    """Send visitors who are not signed in to sign in, then back here with what they typed."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None:
            with contextlib.suppress(TooLongToKeep):
                keep_form()
            target = request.full_path if request.query_string else request.path
            login = url_for("auth.login", next=target)
            if htmx.wanted():  # the script would follow a redirect itself: navigate instead
                return "", 200, {"HX-Redirect": login, "Vary": "HX-Request"}
            return redirect(login, 303)
        return view(**kwargs)

    return wrapped


def end_session(everywhere=False):
    """Forget the user here (token record, session id) for good; return the token record."""
    key = session.get("token_key")
    sub = (session.get("user") or {}).get("sub")
    record = None
    if key:
        record = tokens.end(key, everywhere)
        flow.discard(key)
    sessions.end()
    if sub is not None:
        # Whose session ended: a form kept from now on is that user's alone.
        session["ended_sub"] = sub
    g.user = None
    return record


def message(title_and_text, status, retry=True):
    title, text = title_and_text
    return render_template("auth/message.html", title=title, text=text, retry=retry), status


def client_refused():
    """Tell the user the app's own credentials were refused; keep the detail for its admin."""
    config = current_app.config
    current_app.logger.error(
        "Sentinel refused the app's client credentials (invalid_client) for LP_CLIENT_ID=%s on "
        "account %s: check LP_CLIENT_ID and LP_CLIENT_SECRET (and LP_TOKEN_AUTH, if set)",
        config["LP_CLIENT_ID"],
        config["LP_ACCOUNT_ID"],
    )
    sentinel.remember_refusal()
    return message(MISCONFIGURED, 502, retry=False)


@bp.get("/login")
def login():
    """Send the browser to Sentinel's sign-in page (after a pause when signing in step by step)."""
    session["next"] = safe_next(request.args.get("next"))
    # Chosen per sign-in ("Sign in step by step"), kept until signed out or skipped.
    session["walkthrough"] = request.args.get("walkthrough") == "1"
    # redirect_uri comes from configuration, never from the Host header.
    response = oauth.client().authorize_redirect(current_app.config["LP_REDIRECT_URI"])
    flow.begin(response.headers["Location"])
    oauth.keep_state(session["flow"]["authorize"]["state"])
    if session["walkthrough"]:
        return render_template(
            "flow/pause.html",
            step="authorize",
            authorize=session["flow"]["authorize"],
            go=response.headers["Location"],
        )
    return response


@bp.get("/callback")
def callback():
    """Finish signing in: check the answer, exchange the code once, start a fresh session."""
    args = request.args
    if any(len(args.getlist(name)) > 1 for name in ("state", "code", "error")):
        return message(EXPIRED, 400)
    state = args.get("state")
    known = oauth.pending_state(state)
    if "error" in args:
        # error_description is the server's text: never shown, never trusted.
        if known:
            oauth.forget_state(state)
        if args["error"] == "access_denied":
            return message(CANCELLED, 200 if known else 400)
        if args["error"] in ("server_error", "temporarily_unavailable"):
            return message(UNAVAILABLE, 503)
        return message(FAILED, 400)
    if not known and g.user is not None:
        # Back to an old callback after signing in: the sign-in is done, go home.
        return redirect(url_for("views.index"), 303)
    if not known:
        current_app.logger.warning("sign-in callback with an unknown or expired state")
        return message(EXPIRED, 400)
    if not args.get("code"):
        oauth.forget_state(state)
        return message(FAILED, 400)
    flow.callback_seen(state, args["code"])
    if session.get("walkthrough"):
        # The code waits server-side: the pause page shows it shortened, never whole.
        session["pending_code"] = {"code": args["code"], "state": state}
        return render_template("flow/pause.html", step="exchange", callback=session["flow"])
    return finish_sign_in(args["code"], state)


@bp.post("/callback/exchange")
def exchange_after_pause():
    """Go on from the walk-through's pause: exchange the code kept server-side."""
    pending = session.pop("pending_code", None)
    if "skip_pauses" in request.form:
        session["walkthrough"] = False
    if not pending or not oauth.pending_state(pending["state"]):
        return message(EXPIRED, 400)
    return finish_sign_in(pending["code"], pending["state"])


def finish_sign_in(code, state):
    """Exchange the code exactly once and start the session, or say what went wrong."""
    if not oauth.claim_state(state):
        return message(EXPIRED, 400)
    seen = {}  # what the token call sent and got back, for the flow record
    try:
        token = oauth.exchange(code, state, seen)
    except (AuthlibBaseError, requests.HTTPError) as exc:
        if sentinel.refused_client(exc):
            return client_refused()
        if isinstance(exc, requests.HTTPError):
            return message(unavailable(exc), 503)
        current_app.logger.warning("code exchange refused: %s", getattr(exc, "error", exc))
        return message(FAILED, 400)
    except sentinel.TooLarge as exc:
        return message((FAILED[0], f"LivePerson's sign-in service {sentinel.why(exc)}."), 400)
    except (requests.RequestException, ValueError, CircuitOpen) as exc:
        current_app.logger.warning("code exchange failed: %s", type(exc).__name__)
        return message(unavailable(exc), 503)
    if not isinstance(token.get("access_token"), str) or (
        str(token.get("token_type", "")).lower() != "bearer"
    ):
        return message(FAILED, 400)
    return start_session(token, seen)


def start_session(token, exchange):
    """Keep the tokens server-side and give the browser a new session id."""
    identity = tokens.claims(token.get("id_token"))
    audience = tokens.audiences(identity)
    if audience is not None and current_app.config["LP_CLIENT_ID"] not in audience:
        return message(FAILED, 400)
    identity = identity or tokens.claims(token["access_token"])
    target = session.get("next", "/")
    carried = ("pending_form", "flow", "walkthrough")
    kept = {name: session[name] for name in carried if name in session}
    typist = kept.get("pending_form", {}).get("sub", "")
    if typist is not None and typist != str(identity.get("sub", "unknown")):
        # Someone else typed it: never prefilled for whoever signs in next in this browser.
        # (None: a browser signed out with no known user typed it, this browser's own.)
        kept.pop("pending_form", None)
    session.clear()
    session.update(kept)
    key = secrets.token_urlsafe(32)
    tokens.begin(key, token, exchange)
    session.pop("flow", None)
    now = time.time()
    session.update(
        user={
            "sub": str(identity.get("sub", "unknown")),
            "login_name": identity.get("preferred_username") or identity.get("login_name"),
            "is_admin": bool(identity.get("is_admin")),
            "is_lpa": bool(identity.get("is_lpa")),
        },
        token_key=key,
        auth_time=now,
        last_seen=now,
    )
    current_app.session_interface.regenerate(session)
    audit.event("sign-in", session["user"])
    return redirect(target, 303)


@bp.post("/logout")
def logout():
    """Sign out of this app only."""
    if g.user:
        audit.event("sign-out", g.user)
    end_session()
    flash("You are signed out of Functions Invoker. Your LivePerson sign-in elsewhere is kept.")
    return redirect(url_for("views.index"), 303)


@bp.get("/logout/everywhere")
@login_required
def logout_everywhere_confirm():
    """Warn what signing out of LivePerson everywhere ends."""
    return render_template("auth/logout_everywhere.html")


@bp.post("/logout/everywhere")
def logout_everywhere():
    """Sign out here at once, then revoke the grant at Sentinel; show the flow's last step."""
    key = session.get("token_key")
    final = (flow.load(key) if key else None) or {}
    if g.user:
        audit.event("sign-out-everywhere", g.user)
    # The record as last written, read after the tombstone: a refresh that finishes later
    # revokes the token it rotated to itself.
    record = end_session(everywhere=True)
    refresh_token = (record or {}).get("refresh_token")
    outcome = sentinel.revoke(refresh_token) if refresh_token else "refused"
    revoked = outcome == "revoked"
    final["revoke"] = {"at": time.time(), "ok": revoked, "token": flow.short(refresh_token)}
    if revoked:
        flash(
            "You are signed out, and LivePerson ended your sign-in everywhere, "
            "Agent Workspace included."
        )
    else:
        later = ""
        if outcome == "unreachable":
            sentinel.revoke_later(refresh_token)
            later = " The app keeps trying for a few minutes."
        flash(
            "You are signed out of Functions Invoker, but LivePerson did not confirm ending "
            "your other sessions. Sign out in LivePerson itself to be sure." + later
        )
    # The record is already deleted from the server; this page shows it one last time.
    return render_template("flow/record.html", flow=final, diagram=flow.diagram(final), final=True)
