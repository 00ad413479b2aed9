"""A configuration self-check for admins: each setting, and whether the pieces fit together."""

import time
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask import session

from app.auth import sentinel
from app.auth import tokens
from app.auth.views import login_required
from app.config import NAMES
from app.config import UPSTREAM_TRUST_ENV
from app.config import shown
from liveperson_functions.check import METHODS
from liveperson_functions.check import Finding as Check
from liveperson_functions.check import try_account
from liveperson_functions.discovery import SERVICES
from liveperson_functions.discovery import DiscoveryError
from liveperson_functions.transport import make_session

bp = Blueprint("admin", __name__)

SHOWN = [name for name in NAMES if not name.startswith("SANDBOX_")]
MAX_SKEW = 60


def settings():
    """Each setting's effective value, secrets masked."""
    return [(name, shown(name, current_app.config.get(name))) for name in SHOWN]


def discovery_checks():
    resolver = current_app.extensions["resolver"]
    checks = []
    for service in SERVICES:
        try:
            domain = resolver.domain(service)
        except DiscoveryError as exc:
            needed = service != "agentVep"
            fix = "Check LP_ACCOUNT_ID and LP_CSDS_URL, or set LP_DOMAINS for this service."
            checks.append(Check(f"CSDS: {service}", False if needed else None, str(exc), fix))
        else:
            checks.append(Check(f"CSDS: {service}", True, domain))
    return checks


def redirect_check():
    configured = urlsplit(current_app.config["LP_REDIRECT_URI"])
    here = urlsplit(request.host_url)
    expected = f"{here.scheme}://{here.netloc}/callback"
    if (configured.scheme, configured.netloc, configured.path) == (
        here.scheme,
        here.netloc,
        "/callback",
    ):
        return Check("LP_REDIRECT_URI matches this address", True, expected)
    return Check(
        "LP_REDIRECT_URI matches this address",
        False,
        f"LP_REDIRECT_URI is {current_app.config['LP_REDIRECT_URI']}, but the app is reached "
        f"at {here.scheme}://{here.netloc}.",
        f"Open the app at {configured.scheme}://{configured.netloc}, or set LP_REDIRECT_URI to "
        f"{expected} and register that exact URI with LivePerson. Behind a proxy, set "
        "LP_PROXY_HOPS so the app sees the public scheme and host.",
    )


def cookie_checks():
    config = current_app.config
    secure, name = config["SESSION_COOKIE_SECURE"], config["SESSION_COOKIE_NAME"]
    if request.is_secure and not secure:
        return [
            Check(
                "Cookie flags fit the scheme",
                False,
                "Served over https, but the session cookie is not Secure.",
                "Set LP_REDIRECT_URI to the https callback URL: the app then marks cookies "
                "Secure and names them __Host-invoker.",
            )
        ]
    if not request.is_secure and secure:
        return [
            Check(
                "Cookie flags fit the scheme",
                False,
                "Served over plain http, but the session cookie is Secure: browsers will not "
                "send it back, and every sign-in will fail.",
                "Serve the app over https, or behind a TLS proxy set LP_PROXY_HOPS.",
            )
        ]
    detail = f"{name}: HttpOnly, SameSite={config['SESSION_COOKIE_SAMESITE']}"
    return [Check("Cookie flags fit the scheme", True, detail + (", Secure" if secure else ""))]


def store_check():
    extensions = current_app.extensions
    if extensions["store"].ping() and extensions["userdata"].ping():
        backend = current_app.config["SESSION_BACKEND"]
        return Check("Store reachable", True, f"{backend} store answers")
    return Check(
        "Store reachable",
        False,
        "The session or history store does not answer.",
        "Check that Redis runs and REDIS_URL is right (or that INSTANCE_PATH is writable).",
    )


def clock_check():
    record = tokens.load(session["token_key"]) or {}
    # Sentinel's access tokens are opaque: its clock shows only in the id_token's iat.
    issued = tokens.claims(record.get("access_token")).get("iat")
    received = record.get("obtained_at")
    if not isinstance(issued, int | float):
        issued = tokens.claims(record.get("id_token")).get("iat")
        received = record.get("id_token_at")
    if not isinstance(issued, int | float) or received is None:
        return Check("Clock skew", None, "Neither token carries an iat to compare with.")
    skew = received - issued
    detail = f"{skew:+.1f} s between Sentinel's iat and this server's clock"
    if abs(skew) <= MAX_SKEW:
        return Check("Clock skew", True, detail)
    return Check(
        "Clock skew",
        False,
        detail,
        "Synchronise this server's clock (NTP): token expiry is computed from it.",
    )


@bp.route("/admin/check", methods=["GET", "POST"])
@login_required
def check():
    """Check the configuration; a POST also tries the account ("Try it"), invoking nothing."""
    if not g.user.get("is_admin"):
        abort(403)
    tried = try_it() if request.method == "POST" else None
    checks = [
        *discovery_checks(),
        redirect_check(),
        *cookie_checks(),
        store_check(),
        clock_check(),
        pkce_check(),
        client_auth_check(),
        client_refused_check(),
    ]
    return render_template(
        "admin/check.html",
        checks=checks,
        settings=settings(),
        checked_at=time.time(),
        tried=tried,
    )


def pkce_check():
    """PKCE: on by default, though Sentinel does not document it."""
    state = "sent (S256)" if current_app.config["LP_PKCE"] else "off (LP_PKCE=0)"
    return Check(
        "PKCE",
        None,
        f"{state}. Sentinel's documentation does not mention PKCE; RFC 6749 §3.1 requires "
        "servers to ignore parameters they do not know, so it is sent.",
        "If this account's Sentinel refuses the authorize request, set LP_PKCE=0.",
    )


def client_auth_check():
    """How the app authenticates to Sentinel's user-token endpoints, and why."""
    method, source = sentinel.client_auth()
    return Check(
        "Token endpoint client authentication",
        None,
        f"{METHODS[method]}, {source}. The app token (client credentials) uses the form body.",
        "" if source.startswith("pinned") else "Set LP_TOKEN_AUTH=basic or post to pin it.",
    )


def client_refused_check():
    """Whether Sentinel refused the app's client credentials at a sign-in lately."""
    name = "Sentinel accepts LP_CLIENT_ID and LP_CLIENT_SECRET"
    at = sentinel.last_refusal()
    if at is None:
        return Check(name, None, "No sign-in was refused for them in the last 24 hours.")
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
    return Check(
        name,
        False,
        f"At {when} Sentinel refused client {current_app.config['LP_CLIENT_ID']!r} "
        "(invalid_client) at a sign-in, so nobody could sign in.",
        "Copy the client id and secret of the app installation again into LP_CLIENT_ID and "
        "LP_CLIENT_SECRET (unset LP_TOKEN_AUTH if it is pinned), restart, and press Try it.",
    )


def try_it():
    """Probe the real account: hosts, and which client authentication Sentinel accepts."""
    config = current_app.config
    with make_session(pool_size=1, trust_env=UPSTREAM_TRUST_ENV) as http:
        return try_account(
            current_app.extensions["resolver"],
            config["LP_ACCOUNT_ID"],
            config["LP_CLIENT_ID"],
            config["LP_CLIENT_SECRET"],
            http,
            redirect_uri=config["LP_REDIRECT_URI"],
        )
