"""Authentication strategies: a signed-in user's bearer, or an app's client-credentials token."""

import json
import logging
import threading
import time
import uuid
from urllib.parse import quote

import requests
from joserfc import jws
from joserfc.errors import JoseError

from liveperson_functions.discovery import DiscoveryError

from . import __version__
from .errors import FaaSError
from .errors import error_from_response
from .transport import CONNECT_TIMEOUT
from .transport import READ_TIMEOUT
from .transport import make_session
from .transport import read_body
from .transport import transport_error

log = logging.getLogger(__name__)

MAX_REFRESH_BUFFER = 300  # renew at most 5 minutes early...
OPAQUE_TOKEN_LIFETIME = 60  # ...and keep a token whose expiry we cannot read only briefly
FAILED_FETCH_BACKOFF = 10  # after a failed renewal, keep the old token this long before retrying


class UserBearer:
    """Authenticate as the signed-in user with a token supplied by a callable; exceptions
    raised by get_token/refresh propagate unchanged."""

    principal = "user"

    def __init__(self, get_token, refresh=None):
        self._get_token = get_token
        self._refresh_hook = refresh

    def header(self):
        """Return the Authorization header value for the user's current token."""
        token = self._get_token()
        if not token:
            raise FaaSError("No signed-in user access token is available.", kind="auth")
        return f"Bearer {token}"

    def refresh(self, failed=None):
        """Renew the user's token after a 401; return whether a replay could now succeed."""
        if self._refresh_hook is None:
            return False
        # Another caller may already have renewed the token that was rejected.
        if failed is not None and self.header() != failed:
            return True
        self._refresh_hook()
        return True


class ClientCredentials:
    """Authenticate as an app with Sentinel's client-credentials grant, caching the token."""

    principal = "app"

    def __init__(
        self,
        client_id,
        client_secret,
        resolver,
        account_id,
        *,
        session=None,
        timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        clock=time.time,
        user_agent=f"functions-invoker/{__version__}",
    ):
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are both required")
        self.client_id = client_id
        self._client_secret = client_secret
        self.resolver = resolver
        self.account_id = str(account_id)
        self.timeout = timeout
        self.user_agent = user_agent
        self._owns_session = session is None
        self._session = session or make_session(pool_size=4)
        self._clock = clock
        # One lock around the fetch, so that concurrent callers fetch a token exactly once.
        self._lock = threading.Lock()
        self._token = None
        self._expires_at = 0.0
        self._renew_at = 0.0
        self._retry_at = 0.0

    def __repr__(self):
        return f"ClientCredentials(client_id={self.client_id!r}, account_id={self.account_id!r})"

    def credentials(self):
        """Return `(client_id, client_secret)`, for probing Sentinel's token endpoint."""
        return self.client_id, self._client_secret

    def close(self):
        """Close the connection pool this strategy created (a session passed in is left open)."""
        if self._owns_session:
            self._session.close()

    def header(self):
        """Return `Bearer <app token>`, fetching a new token shortly before the old one expires."""
        with self._lock:
            now = self._clock()
            fresh = now < self._renew_at
            backing_off = now < min(self._retry_at, self._expires_at)
            if self._token and (fresh or backing_off):
                return f"Bearer {self._token}"
            try:
                self._fetch()
            except FaaSError as exc:
                if not self._token or now >= self._expires_at:
                    raise
                # Sentinel hiccups should not fail calls while the old token is still valid.
                log.warning("App token renewal failed; using the current token: %s", exc)
                self._retry_at = now + FAILED_FETCH_BACKOFF
            return f"Bearer {self._token}"

    def refresh(self, failed=None):
        """Fetch a new token after a 401 (unless another caller already did); return True."""
        with self._lock:
            if failed is None or failed == f"Bearer {self._token}":
                self._fetch()
        return True

    def _fetch(self):
        request_id = str(uuid.uuid4())
        try:
            base = self.resolver.base_url("sentinel")
        except DiscoveryError as exc:
            raise FaaSError(str(exc), kind="discovery") from exc
        url = f"{base}/sentinel/api/account/{quote(self.account_id, safe='')}/app/token"
        what = f"LivePerson's authorization server (Sentinel) at {base}"
        try:
            response = self._session.post(
                url,
                params={"v": "2.0"},
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                },
                headers={
                    "Accept": "application/json",
                    "User-Agent": self.user_agent,
                    "X-Request-ID": request_id,
                },
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = read_body(response, request_id=request_id)
        except requests.RequestException as exc:
            raise transport_error(
                exc, what, posted=False, read_timeout=self.timeout[1], request_id=request_id
            ) from exc
        status = response.status_code
        if status != 200:
            detail = error_from_response(status, body, request_id)
            raise FaaSError(
                f"{what} refused to issue an app token for client {self.client_id!r}: "
                f"{detail.message or f'HTTP {status}'} (HTTP {status}).",
                kind="redirect" if 300 <= status < 400 else "auth",
                status=status,
                request_id=request_id,
            )
        try:
            data = json.loads(body)
            token = data["access_token"]
            if not isinstance(token, str) or not token:
                raise TypeError("access_token is not a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise FaaSError(
                f"{what} answered without a usable access_token.",
                kind="auth",
                status=status,
                request_id=request_id,
            ) from exc
        now = self._clock()
        expires_at = _expiry(token, data.get("expires_in"), now)
        lifetime = max(0.0, expires_at - now)
        self._token = token
        self._expires_at = expires_at
        self._renew_at = expires_at - min(MAX_REFRESH_BUFFER, lifetime / 2)
        self._retry_at = 0.0


def peek(token):
    """Return a JWT's `(header, claims)` without checking its signature; ({}, {}) if not a JWT.

    Only for timing and display: the token came straight from Sentinel over TLS.
    """
    try:
        compact = jws.extract_compact((token or "").encode())
        found = compact.headers(), json.loads(compact.payload)
    except (JoseError, ValueError, TypeError, UnicodeError):
        return {}, {}  # not a JWT: an opaque token
    return tuple(part if isinstance(part, dict) else {} for part in found)


def _expiry(token, expires_in, now):
    """Return when a token expires: its JWT `exp`, else `expires_in`, else a short default."""
    exp = peek(token)[1].get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    try:
        return now + float(expires_in)
    except (TypeError, ValueError):
        return now + OPAQUE_TOKEN_LIFETIME
