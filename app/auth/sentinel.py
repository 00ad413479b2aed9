"""The calls to Sentinel's token endpoints: code exchange, refresh and revoke, with the client
authentication it accepts and a circuit breaker around them."""

import contextlib
import threading
import time
from urllib.parse import parse_qsl

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app

from app.store import StoreError
from liveperson_functions.breaker import CircuitOpen
from liveperson_functions.discovery import DiscoveryError
from liveperson_functions.errors import FaaSError
from liveperson_functions.transport import read_body

TIMEOUT = 10  # seconds for each call to Sentinel
MAX_ANSWER = 64 * 1024  # a token response is a few KB
REVOKE_RETRIES = (5, 30, 120)  # seconds before each later attempt to revoke

# Client authentication at the user-token endpoints (code exchange, refresh, revoke). HTTP Basic
# first: Functions' authorization-code guide says "Client Authentication: header", and RFC 6749
# §2.3.1 makes Basic the method servers MUST support. The Token API page shows the form body.
CLIENT_AUTH = {"basic": "client_secret_basic", "post": "client_secret_post"}
OTHER_AUTH = {"basic": "post", "post": "basic"}
CLIENT_AUTH_KEY = "sentinel:client-auth"
CLIENT_AUTH_TTL = 7 * 24 * 3600  # then Basic is tried again, costing one refused call
REFUSED_KEY = "sentinel:client-refused"
REFUSED_TTL = 24 * 3600  # how long /admin/check reports the last refusal


class ClientRefused(Exception):
    """Sentinel did not authenticate the client with the method tried (invalid_client)."""


class TooLarge(ValueError):
    """Sentinel sent an answer far larger than any token response."""


def endpoints():
    """Return Sentinel's endpoints for the account, discovering its host."""
    config = current_app.config
    host = current_app.extensions["resolver"].base_url("sentinel")
    base = f"{host}/sentinel/api/account/{config['LP_ACCOUNT_ID']}"
    return {
        "authorization_endpoint": f"{base}/authorize?v=1.0",
        "token_endpoint": f"{base}/token?v=2.0",
        "revocation_endpoint": f"{base}/token/revoke?v=1.0",
    }


def why(exc):
    """Say in a few words how a call to Sentinel failed."""
    if isinstance(exc, CircuitOpen):
        return f"failed repeatedly, so it is not called for {exc.retry_after} s"
    if isinstance(exc, TooLarge):
        return f"sent an answer {exc}, which cannot be a token"
    if isinstance(exc, requests.Timeout):
        return "did not answer in time"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in str(exc):
        return "cut its answer off"
    if isinstance(exc, requests.ConnectionError):
        return "could not be reached (the connection was refused or reset)"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"answered with an error (HTTP {exc.response.status_code})"
    if isinstance(exc, ValueError):
        return "answered with something that is not a token (an HTML page or a redirect)"
    return "failed"


@contextlib.contextmanager
def sentinel_call():
    """Count a call to Sentinel in its circuit breaker; an OAuth error is still an answer."""
    breaker = current_app.extensions["breakers"]["sentinel"]
    breaker.allow()
    try:
        yield
    except (requests.RequestException, ValueError):
        breaker.failure()
        raise
    except (AuthlibBaseError, ClientRefused):
        breaker.success()
        raise
    breaker.success()


def read_capped(response, limit=MAX_ANSWER):
    """Read a streamed answer from Sentinel, refusing one past `limit` bytes."""
    try:
        body = read_body(response, limit)
    except FaaSError:
        raise TooLarge(f"larger than {limit // 1024} KB") from None
    # authlib's compliance hooks hand on this response object and parse it with .json().
    response._content = body


def remember_exchange(client, seen):
    """Have an authlib client write what its token calls sent and got back into `seen`."""

    def remember(response):
        read_capped(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        basic = response.request.headers.get("Authorization", "").lower().startswith("basic ")
        seen.clear()
        seen.update(
            url=response.request.url,
            client_auth="basic" if basic else "post",
            fields=parse_qsl(response.request.body or ""),
            status=response.status_code,
            response=body if isinstance(body, dict) else None,
        )
        return response

    client.register_compliance_hook("access_token_response", remember)
    client.register_compliance_hook("refresh_token_response", remember)


def oauth_session(method, timeout=None, seen=None):
    """Return an authlib client that authenticates as the app on Sentinel with `method`."""
    config = current_app.config
    client = OAuth2Session(
        config["LP_CLIENT_ID"],
        config["LP_CLIENT_SECRET"],
        token_endpoint_auth_method=CLIENT_AUTH[method],
        revocation_endpoint_auth_method=CLIENT_AUTH[method],
        default_timeout=timeout or TIMEOUT,
    )
    client.trust_env = False
    remember_exchange(client, {} if seen is None else seen)
    return client


def client_auth():
    """Return `(method, source)`: how the user-token calls authenticate the client, and why."""
    pinned = current_app.config.get("LP_TOKEN_AUTH")
    if pinned:
        return pinned, "pinned by LP_TOKEN_AUTH"
    learned = current_app.extensions["sentinel_client_auth"]
    if learned.get("method"):
        return learned["method"], "learned by this process"
    try:
        stored = current_app.extensions["store"].get(CLIENT_AUTH_KEY)
    except StoreError:
        stored = None
    if isinstance(stored, dict) and stored.get("method") in CLIENT_AUTH:
        learned.update(stored)
        return stored["method"], "learned by another worker or host"
    return "basic", "default"


def learn_client_auth(method, refused):
    """Remember the method Sentinel accepted, here and in the store; log the change once."""
    record = {"method": method, "at": time.time()}
    current_app.extensions["sentinel_client_auth"].update(record)
    # Should the store fail, this process still remembers; others learn it from a refusal.
    with contextlib.suppress(StoreError):
        current_app.extensions["store"].set(CLIENT_AUTH_KEY, record, CLIENT_AUTH_TTL)
    current_app.logger.warning(
        "Sentinel refused %s client authentication (invalid_client) and accepted %s: using %s "
        "from now on; set LP_TOKEN_AUTH=%s to skip the refused call",
        refused,
        method,
        method,
        method,
    )


def remember_refusal():
    """Note for /admin/check that Sentinel refused the app's client credentials just now."""
    with contextlib.suppress(StoreError):
        current_app.extensions["store"].set(REFUSED_KEY, {"at": time.time()}, REFUSED_TTL)


def last_refusal():
    """Return when Sentinel last refused the app's client credentials, or None."""
    try:
        found = current_app.extensions["store"].get(REFUSED_KEY)
    except StoreError:
        return None
    return found.get("at") if isinstance(found, dict) else None


def refused_client(exc):
    """Tell whether a failed token call means the client was not authenticated."""
    if isinstance(exc, ClientRefused) or getattr(exc, "error", None) == "invalid_client":
        return True
    response = getattr(exc, "response", None)
    return isinstance(exc, requests.HTTPError) and getattr(response, "status_code", 0) == 401


def with_client_auth(call):
    """Run `call(method)`; after a client refusal, retry once with the other method and
    remember the one that worked (unless LP_TOKEN_AUTH pins it)."""
    method, source = client_auth()
    try:
        return call(method)
    except (AuthlibBaseError, requests.HTTPError, ClientRefused) as exc:
        # Sentinel authenticates the client before it looks at the code or refresh token,
        # so a refused call spent nothing and can be sent again.
        if source.startswith("pinned") or not refused_client(exc):
            raise
    other = OTHER_AUTH[method]
    result = call(other)
    learn_client_auth(other, method)
    return result


def exchange_code(params, seen=None):
    """Exchange an authorization code for tokens (authorization_code grant)."""
    return with_client_auth(
        lambda method: oauth_session(method, seen=seen).fetch_token(
            endpoints()["token_endpoint"],
            grant_type="authorization_code",
            allow_redirects=False,
            stream=True,
            **params,
        )
    )


def exchange_refresh_token(refresh_token, seen=None):
    """Ask Sentinel for new tokens with a refresh token (refresh_token grant)."""
    with sentinel_call():
        return with_client_auth(
            lambda method: oauth_session(method, seen=seen).refresh_token(
                endpoints()["token_endpoint"],
                refresh_token=refresh_token,
                allow_redirects=False,
                stream=True,
            )
        )


def revoke(refresh_token):
    """Revoke a refresh token at Sentinel: "revoked", "refused" (4xx), or "unreachable"."""
    try:
        with sentinel_call():
            response = with_client_auth(lambda method: revoke_with(method, refresh_token))
    except ClientRefused:
        return "refused"
    except (requests.RequestException, AuthlibBaseError, ValueError, DiscoveryError, CircuitOpen):
        return "unreachable"
    if response.status_code == 200:
        return "revoked"
    return "unreachable" if response.status_code >= 500 else "refused"


def revoke_with(method, refresh_token):
    """Send one revocation request; raise ClientRefused when the client was not authenticated."""
    response = oauth_session(method, timeout=5).revoke_token(
        endpoints()["revocation_endpoint"],
        token=refresh_token,
        token_type_hint="refresh_token",
        allow_redirects=False,
    )
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if response.status_code == 401 or error == "invalid_client":
        raise ClientRefused(f"HTTP {response.status_code}")
    return response


def revoke_later(refresh_token):
    """Keep trying to revoke with backoff, off the request path (RFC 7009 §2.2.1)."""
    app = current_app._get_current_object()

    def attempts():
        for delay in REVOKE_RETRIES:
            time.sleep(delay)
            with app.app_context():
                outcome = revoke(refresh_token)
            if outcome != "unreachable":
                app.logger.info("revocation retried later: %s", outcome)
                return
        app.logger.warning("revocation still unconfirmed after %d retries", len(REVOKE_RETRIES))

    threading.Thread(target=attempts, name="revoke-later", daemon=True).start()
