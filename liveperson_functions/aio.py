"""AsyncFunctionsClient: the same calls as FunctionsClient, on httpx, sharing its I/O-free core.

Install with the `async` extra (`pip install "liveperson-functions[async] @ …"`), which brings
httpx. Every rule lives in `core` and `client.ClientCore`; this module only moves bytes.
"""

import asyncio
import os
import ssl
import time
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from typing import Concatenate
from typing import ParamSpec
from typing import Protocol
from typing import TypeVar
from typing import cast

try:
    import httpx
except ImportError as exc:  # the `async` extra is optional
    raise ImportError(
        "AsyncFunctionsClient needs httpx: pip install 'liveperson-functions[async]'"
    ) from exc

from . import core
from .client import IMPLEMENTED_TTL
from .client import ClientCore
from .client import public
from .client import result_type
from .core import MAX_BODY_BYTES
from .core import Retries
from .discovery import Resolver
from .inputs import Timeout
from .results import Metrics
from .wire import USER_AGENT

P = ParamSpec("P")
R = TypeVar("R")

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
    if verify in (None, True) and trust_env:  # as requests: True means "the default trust"
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


def awaiting(
    call: Callable[Concatenate[ClientCore, P], core.Steps[R]],
) -> Callable[Concatenate["AsyncFunctionsClient", P], Coroutine[Any, Any, R]]:
    """Make a call of the core a coroutine method of AsyncFunctionsClient."""

    async def method(self: "AsyncFunctionsClient", /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._io.run(call(self, *args, **kwargs))

    return public(method, call, returns=result_type(call))


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
        self._io = Awaiting(self.http, auth, resolver)

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

    invoke = awaiting(ClientCore._invoke)
    invoke_event = awaiting(ClientCore._invoke_event)
    is_implemented = awaiting(ClientCore._is_implemented)
    list_functions = awaiting(ClientCore._list_functions)


class Awaiting:
    """Runs the core's steps with asyncio: httpx for HTTP, the resolver off the event loop."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        auth: AsyncAuth | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.http = http
        self.auth = auth
        self.resolver = resolver

    async def run(self, steps: core.Steps[R]) -> R:
        """Drive `steps` to its end: perform each effect, send back its result or error."""
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                effect = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as done:
                return cast(R, done.value)
            try:
                value, error = await self.perform(effect), None
            except Exception as exc:  # the step decides; what it does not catch reaches you
                value, error = None, exc

    async def perform(self, effect: object) -> Any:
        if isinstance(effect, core.Attempt):
            return await attempt(self.http, effect)
        if isinstance(effect, core.Pause):
            return await asyncio.sleep(effect.seconds)
        if isinstance(effect, core.Locate):
            # The resolver may ask CSDS (cached for 10 minutes) with blocking I/O: off the loop.
            return await asyncio.to_thread(_where, self.resolver, effect.service)
        assert self.auth is not None
        if isinstance(effect, core.Authorize):
            return await self.auth.aheader(self.http)
        if isinstance(effect, core.Renew):
            return await self.auth.arefresh(effect.failed, self.http)
        raise TypeError(f"not an effect: {effect!r}")


def _where(resolver: Resolver | None, service: str) -> tuple[str, str]:
    assert resolver is not None
    return resolver.domain(service), resolver.base_url(service)


async def attempt(http: httpx.AsyncClient, effect: core.Attempt) -> tuple[int, Any, bytes]:
    """Make one HTTP request and read its answer, bounded; a failure is a NetworkFailure."""
    request = effect.request
    headers = dict(request.headers)
    if effect.authorization is not None:
        headers["Authorization"] = effect.authorization
    connect, read = effect.timeouts
    try:
        async with http.stream(
            request.method,
            request.url,
            params=list(request.params),
            content=None if effect.form is not None else request.body(),
            data=effect.form,
            headers=headers,
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
        ) as response:
            redirected = 300 <= response.status_code < 400
            request_id = request.headers.get("X-Request-ID")
            raw = b"" if redirected else await read_body(response, request_id)
    except httpx.TransportError as exc:
        raise core.NetworkFailure(stage_of(exc), type(exc).__name__) from exc
    return response.status_code, response.headers, raw


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
