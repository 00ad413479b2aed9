"""Authentication strategies: a signed-in user's bearer, or an app's client-credentials token."""

import asyncio
import inspect
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

import requests
from joserfc import jws
from joserfc.errors import JoseError

from . import core
from .discovery import Resolver
from .errors import FaaSError
from .results import Call
from .transport import Blocking
from .transport import make_session
from .wire import USER_AGENT
from .wire import PreparedRequest

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

MAX_REFRESH_BUFFER = core.MAX_REFRESH_BUFFER
OPAQUE_TOKEN_LIFETIME = core.OPAQUE_TOKEN_LIFETIME
FAILED_FETCH_BACKOFF = core.FAILED_FETCH_BACKOFF

TokenSource = Callable[[], "str | None | Awaitable[str | None]"]
Refresher = Callable[[], object]


class UserBearer:
    """Authenticate as the signed-in user with a token supplied by a callable.

    `get_token()` returns the user's current access token; `refresh()`, if given, renews it
    after LivePerson refused it (the call is then replayed once). Either may be a coroutine
    function when used with AsyncFunctionsClient. What they raise reaches your code unchanged.
    """

    principal = "user"

    def __init__(self, get_token: TokenSource, refresh: Refresher | None = None) -> None:
        self._get_token = get_token
        self._refresh_hook = refresh

    def header(self) -> str:
        """Return the Authorization header value for the user's current token."""
        return _bearer(self._get_token())

    def refresh(self, failed: str | None = None) -> bool:
        """Renew the user's token after a refusal; return whether a replay could now succeed."""
        if self._refresh_hook is None:
            return False
        # Another caller may already have renewed the token that was rejected.
        if failed is not None and self.header() != failed:
            return True
        self._refresh_hook()
        return True

    async def aheader(self, http: "httpx.AsyncClient | None" = None) -> str:
        """The async `header()`: `get_token` may be a coroutine function."""
        return _bearer(await _maybe_await(self._get_token()))

    async def arefresh(
        self, failed: str | None = None, http: "httpx.AsyncClient | None" = None
    ) -> bool:
        """The async `refresh()`: `refresh` may be a coroutine function."""
        if self._refresh_hook is None:
            return False
        if failed is not None and await self.aheader() != failed:
            return True
        await _maybe_await(self._refresh_hook())
        return True


class ClientCredentials:
    """Authenticate as an app with Sentinel's client-credentials grant, caching the token.

    One token serves every thread (and task): it is fetched once however many ask, renewed
    before it expires, and kept through a failed renewal while it is still valid.
    """

    principal = "app"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        resolver: Resolver,
        account_id: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (core.CONNECT_TIMEOUT, core.READ_TIMEOUT),
        user_agent: str = USER_AGENT,
        _clock: Callable[[], float] = time.time,
    ) -> None:
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
        self._clock = _clock
        # One lock around the fetch, so that concurrent callers fetch a token exactly once.
        self._lock = threading.Lock()
        self._alock: asyncio.Lock | None = None
        self._state = core.TokenState(_expiry)

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, account_id={self.account_id!r})"

    def credentials(self) -> tuple[str, str]:
        """Return `(client_id, client_secret)`, for probing Sentinel's token endpoint."""
        return self.client_id, self._client_secret

    def close(self) -> None:
        """Close the connection pool this strategy created (a session passed in is left open)."""
        if self._owns_session:
            self._session.close()

    def header(self) -> str:
        """Return `Bearer <app token>`, fetching a new token shortly before the old one expires."""
        with self._lock:
            now = self._clock()
            token = self._state.current(now)
            if token is None:
                try:
                    self._fetch()
                except FaaSError as exc:
                    if not self._state.keep_after_failure(now):
                        raise
                    # Sentinel hiccups should not fail calls while the old token is valid.
                    log.warning("App token renewal failed; using the current token: %s", exc)
            return f"Bearer {self._state.token}"

    def refresh(self, failed: str | None = None) -> bool:
        """Fetch a new token after a 401 (unless another caller already did); return True."""
        with self._lock:
            if self._state.is_current(failed):
                self._fetch()
        return True

    async def aheader(self, http: "httpx.AsyncClient | None" = None) -> str:
        """The async `header()`: the token is fetched with `http`, once for every task."""
        async with self._async_lock():
            now = self._clock()
            token = self._state.current(now)
            if token is None:
                try:
                    await self._afetch(http)
                except FaaSError as exc:
                    if not self._state.keep_after_failure(now):
                        raise
                    log.warning("App token renewal failed; using the current token: %s", exc)
            return f"Bearer {self._state.token}"

    async def arefresh(
        self, failed: str | None = None, http: "httpx.AsyncClient | None" = None
    ) -> bool:
        """The async `refresh()`."""
        async with self._async_lock():
            if self._state.is_current(failed):
                await self._afetch(http)
        return True

    def _async_lock(self) -> asyncio.Lock:
        if self._alock is None:
            self._alock = asyncio.Lock()
        return self._alock

    def _fetch(self) -> None:
        self._state.store(*Blocking(self._session, resolver=self.resolver).run(self._steps()))

    async def _afetch(self, http: "httpx.AsyncClient | None") -> None:
        from .aio import Awaiting

        if http is None:
            raise FaaSError("An async app token fetch needs the client's httpx client.")
        self._state.store(*await Awaiting(http, resolver=self.resolver).run(self._steps()))

    def _steps(self) -> core.Steps[tuple[str, Any, float]]:
        """Fetch a token from Sentinel: answer `(token, expires_in, now)`."""
        call = Call("token", request_id=str(uuid.uuid4()))
        _, base = yield from core.locate("sentinel", call)
        url, params, form, headers = core.token_request(
            base,
            self.account_id,
            self.client_id,
            self._client_secret,
            self.user_agent,
            str(call.request_id),
        )
        request = PreparedRequest("POST", url, tuple(params.items()), headers)
        what = core.sentinel_what(base)
        status, _, body = yield from core.exchange(
            request, None, self.timeout, what, call, core.DEFAULT_RETRIES, form=form
        )
        token, expires_in = core.read_token(
            status, body, what=what, client_id=self.client_id, request_id=str(call.request_id)
        )
        return token, expires_in, self._clock()


def _bearer(token: object) -> str:
    if not token or not isinstance(token, str):
        raise FaaSError("No signed-in user access token is available.", kind="auth")
    return f"Bearer {token}"


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def peek(token: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a JWT's `(header, claims)` without checking its signature; ({}, {}) if not a JWT.

    Only for timing and display: the token came straight from Sentinel over TLS.
    """
    try:
        compact = jws.extract_compact((token or "").encode())
        found = compact.headers(), json.loads(compact.payload)
    except (JoseError, ValueError, TypeError, UnicodeError):
        return {}, {}  # not a JWT: an opaque token
    header, claims = (part if isinstance(part, dict) else {} for part in found)
    return header, claims


def lifetime_of(value: Any) -> float | None:
    """Read a token answer's `expires_in`: a positive number of seconds, or a numeric string
    (Sentinel writes numbers as strings); None when absent or unusable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _expiry(token: str, expires_in: Any, now: float) -> float:
    """Return when a token expires: its JWT `exp`, else `expires_in`, else a short default."""
    exp = peek(token)[1].get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    lifetime = lifetime_of(expires_in)
    return now + (OPAQUE_TOKEN_LIFETIME if lifetime is None else lifetime)
