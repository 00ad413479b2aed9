"""AsyncFunctionsClient: the same calls as FunctionsClient, on httpx, sharing its I/O-free core.

Install with the `async` extra (`pip install "liveperson-functions[async] @ …"`), which brings
httpx. Every rule lives in `core` and `client.ClientCore`; this module only moves bytes.
"""

import asyncio
import os
import ssl
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from typing import Protocol

import httpx

from . import core
from .client import IMPLEMENTED_TTL
from .client import ClientCore
from .client import _Invoking
from .core import INVOKE_READ_TIMEOUT
from .core import MAX_BODY_BYTES
from .core import READ_TIMEOUT
from .core import Retries
from .discovery import Resolver
from .inputs import Timeout
from .inputs import check_states
from .inputs import check_user_id
from .results import Call
from .results import EventResult
from .results import Invocation
from .results import Metrics
from .wire import USER_AGENT
from .wire import FunctionInfo
from .wire import Headers
from .wire import PreparedRequest

POOL_SIZE = 100


class AsyncAuth(Protocol):
    """What the async client needs of an authentication strategy."""

    principal: str

    async def aheader(self, http: httpx.AsyncClient | None = None) -> str: ...

    async def arefresh(
        self, failed: str | None = None, http: httpx.AsyncClient | None = None
    ) -> bool: ...


def make_http(
    *,
    trust_env: bool = True,
    verify: bool | str | None = None,
    proxies: Mapping[str, str] | None = None,
    pool_size: int = POOL_SIZE,
) -> httpx.AsyncClient:
    """Return an httpx.AsyncClient set up like the sync client's session (see make_session)."""
    context = ssl_context(verify, trust_env)
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    mounts = {
        f"{scheme}://": httpx.AsyncHTTPTransport(proxy=url, verify=context, limits=limits)
        for scheme, url in (proxies or {}).items()
    }
    http = httpx.AsyncClient(
        verify=context,
        trust_env=trust_env,
        mounts=mounts or None,
        limits=limits,
        follow_redirects=False,
    )
    # A client may serve many users; a cookie set for one must never ride along for another.
    http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


def ssl_context(verify: bool | str | None, trust_env: bool) -> ssl.SSLContext:
    """The TLS trust requests would use: `verify`, else REQUESTS_CA_BUNDLE or SSL_CERT_FILE."""
    if verify is None and trust_env:
        verify = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or os.environ.get("SSL_CERT_FILE")
            or True
        )
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify is not False, trust_env=trust_env)


class AsyncFunctionsClient(ClientCore):
    """Call LivePerson Functions for one account from asyncio; one httpx pool per client.

    The same arguments, methods and errors as FunctionsClient, awaited; `http=` takes your
    own httpx.AsyncClient (left open by aclose()). Use it with `async with`, or `await
    client.aclose()`.
    """

    def __init__(
        self,
        account_id: str,
        auth: AsyncAuth,
        resolver: Resolver,
        *,
        user_id: str | None = None,
        platform: str | None = None,
        event_source: str | None = None,
        timeout: Timeout | None = None,
        retries: Retries | int | None = None,
        verify: bool | str | None = None,
        proxies: Mapping[str, str] | None = None,
        trust_env: bool = True,
        http: httpx.AsyncClient | None = None,
        user_agent: str = USER_AGENT,
        metrics: Metrics | None = None,
        _clock: Callable[[], float] = time.monotonic,
        _implemented_ttl: float = IMPLEMENTED_TTL,
    ) -> None:
        """Build an async client; the arguments are FunctionsClient's (see its docstring)."""
        super().__init__(
            account_id,
            auth,
            resolver,
            user_id=user_id,
            platform=platform,
            event_source=event_source,
            timeout=timeout,
            retries=retries,
            user_agent=user_agent,
            metrics=metrics,
            _clock=_clock,
            _implemented_ttl=_implemented_ttl,
        )
        self._owns_http = http is None
        self.http = http or make_http(trust_env=trust_env, verify=verify, proxies=proxies)
        self._on_close: list[Callable[[], object]] = []

    def on_close(self, callback: Callable[[], object]) -> None:
        """Call `callback()` when the client is closed (to close what was made for it)."""
        self._on_close.append(callback)

    async def aclose(self) -> None:
        """Close the client's own connection pool (an httpx client passed in is left open)."""
        if self._owns_http:
            await self.http.aclose()
        for callback in self._on_close:
            callback()

    async def __aenter__(self) -> "AsyncFunctionsClient":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def invoke(
        self,
        uuid: str,
        payload: Any = None,
        headers: Headers | None = None,
        skill_id: str | int | None = None,
        event_source: str | None = None,
        request_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> Invocation:
        """Invoke a function by UUID and return its `Invocation` result."""
        with self._measure("invoke", uuid=str(uuid)) as call:
            inv = self._invoking(uuid, False, payload, headers, skill_id, event_source, request_id)
            status, raw = await self._invoke(call, inv, timeout)
            return self._invocation(call, status, raw)

    async def invoke_event(
        self,
        event_id: str,
        payload: Any = None,
        headers: Headers | None = None,
        skill_id: str | int | None = None,
        event_source: str | None = None,
        request_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> list[EventResult]:
        """Invoke every function implementing an event; return their `EventResult`s, [] if none."""
        with self._measure("invoke_event", event=str(event_id)) as call:
            inv = self._invoking(
                event_id, True, payload, headers, skill_id, event_source, request_id
            )
            _, raw = await self._invoke(call, inv, timeout)
            return self._event_results(call, raw)

    async def is_implemented(
        self, event_id: str, skill_id: str | int | None = None, timeout: Timeout | None = None
    ) -> bool:
        """Tell whether any function implements an event (for a skill); cached for 60 s."""
        with self._measure("is_implemented", event=str(event_id)) as call:
            key = self._implemented_key(event_id, skill_id)
            cached = self._cached_implemented(call, key)
            if cached is not None:
                return cached
            self._begin(call, None)
            base = self._located(call, await self._awhere("faasGW", call))
            request = self._implemented_request(call, base, key)
            _, raw = await self._send(call, "faasGW", request, timeout, READ_TIMEOUT)
            return self._implemented_answer(call, key, raw)

    async def list_functions(
        self,
        state: str | Iterable[str] | None = None,
        event_id: str | None = None,
        name: str | None = None,
        user_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> list[FunctionInfo]:
        """List the account's functions (V1 lambdas or V2 functions) in one normalised shape."""
        with self._measure("list_functions", event=event_id) as call:
            states = check_states(state)
            user = self.user_id if user_id is None else check_user_id(user_id)
            self._begin(call, None)
            base = self._located(call, await self._awhere("faasUI", call))
            request = self._list_request(call, base, states, event_id, name, user)
            _, raw = await self._send(call, "faasUI", request, timeout, READ_TIMEOUT)
            return self._functions(call, raw)

    async def _invoke(
        self, call: Call, inv: _Invoking, timeout: Timeout | None
    ) -> tuple[int, bytes]:
        self._begin(call, inv.request_id)
        base = self._located(call, await self._awhere("faasGW", call))
        request = self._invocation_request(call, base, inv)
        return await self._send(call, "faasGW", request, timeout, INVOKE_READ_TIMEOUT)

    async def _awhere(self, service: str, call: Call) -> tuple[str, str]:
        # The resolver may ask CSDS (cached for 10 minutes) with blocking I/O: off the loop.
        return await asyncio.to_thread(self._where, service, call)

    async def _send(
        self,
        call: Call,
        service: str,
        request: PreparedRequest,
        timeout: Timeout | None,
        read_default: float,
    ) -> tuple[int, bytes]:
        timeouts = self._timeouts(timeout, read_default)
        return await send(self.http, self.auth, request, timeouts, call, service, self.retries)


async def send(
    http: httpx.AsyncClient,
    auth: AsyncAuth,
    request: PreparedRequest,
    timeouts: tuple[float, float],
    call: Call,
    service: str,
    retries: Retries = core.DEFAULT_RETRIES,
) -> tuple[int, bytes]:
    """Send one call (replaying it once with a renewed token after a refusal that may mean a
    dead token) and return `(status, body bytes)`."""
    what = core.describe(service, request.url)
    principal = getattr(auth, "principal", "user")
    authorization = await auth.aheader(http)
    status, headers, raw = await exchange(
        http, request, authorization, timeouts, what, call, retries
    )
    if core.may_be_dead_token(status, service, request.method, principal) and (
        await auth.arefresh(authorization, http)
    ):
        authorization = await auth.aheader(http)
        status, headers, raw = await exchange(
            http, request, authorization, timeouts, what, call, retries
        )
    return core.classify(
        status, headers, raw, call=call, what=what, method=request.method, principal=principal
    )


async def exchange(
    http: httpx.AsyncClient,
    request: PreparedRequest,
    authorization: str | None,
    timeouts: tuple[float, float],
    what: str,
    call: Call,
    retries: Retries = core.DEFAULT_RETRIES,
    form: Mapping[str, str] | None = None,
) -> tuple[int, Mapping[str, str], bytes]:
    """Make one HTTP request, retried as `retries` allows, and read its answer, bounded."""
    headers = dict(request.headers)
    if authorization is not None:
        headers["Authorization"] = authorization
    connect, read = timeouts
    limits = httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
    retried = connects = 0
    while True:
        started = time.perf_counter()
        try:
            async with http.stream(
                request.method,
                request.url,
                params=list(request.params),
                content=None if form is not None else request.body(),
                data=form,
                headers=headers,
                timeout=limits,
            ) as response:
                redirected = 300 <= response.status_code < 400
                raw = b"" if redirected else await read_body(response, call.request_id)
        except httpx.TransportError as exc:
            stage = stage_of(exc)
            core.log_exchange(request, None, started, call)
            delay = retries.delay(
                request.method,
                retried,
                connect_failed=stage == core.CONNECT,
                connects_retried=connects,
            )
            if delay is None:
                raise core.network_error(
                    stage,
                    what,
                    name=type(exc).__name__,
                    # A form is Sentinel's token call: whatever happened, no function ran.
                    posted=request.method == "POST" and form is None,
                    read_timeout=read,
                    request_id=call.request_id,
                ) from exc
            retried, connects = retried + 1, connects + 1
            await asyncio.sleep(delay)
            continue
        core.log_exchange(request, response.status_code, started, call)
        delay = retries.delay(
            request.method,
            retried,
            status=response.status_code,
            retry_after=response.headers.get("Retry-After"),
        )
        if delay is None:
            return response.status_code, response.headers, raw
        retried += 1
        await asyncio.sleep(delay)


async def read_body(
    response: httpx.Response, request_id: str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """Read a streamed body, stopping with a FaaSError once it passes `limit` bytes (decoded)."""
    url = str(response.request.url)
    if core.declared_too_large(response.headers, limit):
        raise core.too_large(url, response.status_code, limit, request_id)
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise core.too_large(url, response.status_code, limit, request_id)
        chunks.append(chunk)
    return b"".join(chunks)


def stage_of(exc: httpx.TransportError) -> str:
    """Name where an httpx exception failed: connect (nothing sent), tls, timeout, broken."""
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        reason = exc.__context__ or exc.__cause__
        if isinstance(reason, ssl.SSLError) or "SSL" in str(exc) or "CERTIFICATE" in str(exc):
            return core.TLS
        return core.CONNECT
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return core.CONNECT  # no connection, so nothing was sent
    if isinstance(exc, httpx.TimeoutException):
        return core.TIMEOUT
    return core.BROKEN
