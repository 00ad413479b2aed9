"""The sync transport on requests: a pooled session, the core's effects performed, bounded reads.

Every rule (what an answer means, when to retry or renew) is in `core`; this module only
moves bytes and names what failed on the network.
"""

import os
import time
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import TypeVar
from typing import cast

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.exceptions import ConnectTimeout
from requests.exceptions import ProxyError
from requests.exceptions import SSLError
from requests.exceptions import Timeout
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import ReadTimeoutError

from . import core
from .core import CONNECT_TIMEOUT  # noqa: F401  (re-exported for the app and bench)
from .core import INVOKE_READ_TIMEOUT  # noqa: F401
from .core import MAX_BODY_BYTES
from .core import READ_TIMEOUT  # noqa: F401
from .wire import PreparedRequest

if TYPE_CHECKING:
    from .discovery import Resolver

R = TypeVar("R")

POOL_SIZE = 32
_CHUNK = 64 * 1024


class Auth(Protocol):
    """What a client needs of an authentication strategy (UserBearer, ClientCredentials)."""

    principal: str

    def header(self) -> str: ...

    def refresh(self, failed: str | None = None) -> bool: ...


class _NoNetrc(AuthBase):
    """Leaves a request as it is: with a session auth set, requests never reads ~/.netrc."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class Session(requests.Session):
    """A requests session whose own `verify` and `proxies` win over the environment's (plain
    requests lets REQUESTS_CA_BUNDLE and HTTPS_PROXY override them), and that also reads
    SSL_CERT_FILE (as httpx and OpenSSL do) when it trusts the environment."""

    explicit_verify: bool | str | None = None
    explicit_proxies: Mapping[str, str] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> Any:
        if verify is None and self.explicit_verify is not None:
            verify = self.explicit_verify
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["proxies"].update(self.explicit_proxies)
        if settings["verify"] is True and self.trust_env and os.environ.get("SSL_CERT_FILE"):
            settings["verify"] = os.environ["SSL_CERT_FILE"]
        return settings


def make_session(
    pool_size: int = POOL_SIZE,
    *,
    trust_env: bool = True,
    verify: bool | str | None = None,
    proxies: Mapping[str, str] | None = None,
) -> Session:
    """Return a keep-alive session for the clients.

    `trust_env` honours HTTPS_PROXY, HTTP_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and
    SSL_CERT_FILE as requests does (never ~/.netrc); `verify` is False, True or a CA bundle
    path, and wins over the environment; `proxies` maps a scheme to a proxy URL.
    """
    session = Session()
    session.trust_env = trust_env
    session.auth = _NoNetrc()
    session.explicit_verify = verify
    session.explicit_proxies = dict(proxies or {})
    # A client may serve many users; a cookie set for one must never ride along for another.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    # No urllib3 retries: the client retries by core.Retries, the same rule as the async one.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def read_body(
    response: requests.Response, limit: int = MAX_BODY_BYTES, request_id: str | None = None
) -> bytes:
    """Read a streamed response body, stopping with a FaaSError once it passes `limit` bytes."""
    if core.declared_too_large(response.headers, limit):
        response.close()
        raise core.too_large(response.url, response.status_code, limit, request_id)
    chunks, size = [], 0
    # iter_content decodes gzip, so this also bounds what a compressed body expands to.
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise core.too_large(response.url, response.status_code, limit, request_id)
        chunks.append(chunk)
    return b"".join(chunks)


class Blocking:
    """Runs the core's steps with blocking I/O: requests for HTTP, the resolver, the auth."""

    def __init__(
        self,
        session: requests.Session | None,
        auth: Auth | None = None,
        resolver: "Resolver | None" = None,
    ) -> None:
        self.session = session
        self.auth = auth
        self.resolver = resolver

    def run(self, steps: core.Steps[R]) -> R:
        """Drive `steps` to its end: perform each effect, send back its result or error."""
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                effect = steps.throw(error) if error is not None else steps.send(value)
            except StopIteration as done:
                return cast(R, done.value)
            try:
                value, error = self.perform(effect), None
            except Exception as exc:  # the step decides; what it does not catch reaches you
                value, error = None, exc

    def perform(self, effect: object) -> Any:
        if isinstance(effect, core.Attempt):
            assert self.session is not None
            return attempt(self.session, effect)
        if isinstance(effect, core.Pause):
            return time.sleep(effect.seconds)
        if isinstance(effect, core.Locate):
            assert self.resolver is not None
            return self.resolver.domain(effect.service), self.resolver.base_url(effect.service)
        assert self.auth is not None
        if isinstance(effect, core.Authorize):
            return self.auth.header()
        if isinstance(effect, core.Renew):
            return self.auth.refresh(failed=effect.failed)
        raise TypeError(f"not an effect: {effect!r}")


def attempt(session: requests.Session, effect: core.Attempt) -> tuple[int, Any, bytes]:
    """Make one HTTP request and read its answer, bounded; a failure is a NetworkFailure."""
    request = effect.request
    headers = dict(request.headers)
    if effect.authorization is not None:
        headers["Authorization"] = effect.authorization
    try:
        response = session.request(
            request.method,
            request.url,
            params=list(request.params),
            data=effect.form if effect.form is not None else request.body(),
            headers=headers,
            timeout=effect.timeouts,
            allow_redirects=False,
            stream=True,
        )
        with response:
            redirected = 300 <= response.status_code < 400
            raw = b"" if redirected else read_body(response, request_id=_request_id(request))
    except requests.RequestException as exc:
        raise core.NetworkFailure(stage_of(exc), type(exc).__name__) from exc
    return response.status_code, response.headers, raw


def _request_id(request: PreparedRequest) -> str | None:
    return request.headers.get("X-Request-ID")


def stage_of(exc: requests.RequestException) -> str:
    """Name where a requests exception failed: connect (nothing sent), tls, timeout, broken."""
    if isinstance(exc, ConnectTimeout):
        return core.CONNECT
    if isinstance(exc, SSLError):
        return core.TLS
    if isinstance(exc, ProxyError):
        return core.CONNECT  # the proxy refused: nothing reached LivePerson
    reason = _reason(exc)
    if isinstance(exc, requests.ConnectionError) and isinstance(
        reason, NewConnectionError | ConnectTimeoutError
    ):
        return core.CONNECT
    # requests reports a timeout while streaming the body as a ConnectionError.
    if isinstance(exc, Timeout) or isinstance(reason, ReadTimeoutError):
        return core.TIMEOUT
    return core.BROKEN


def _reason(exc: Exception) -> object:
    """Return the urllib3 error inside a requests exception (unwrapping MaxRetryError)."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", inner)
