"""The sync transport on requests: a pooled session, one call sent (with retries), bounded reads.

Every rule (what an answer means, when to retry or renew) is in `core`; this module only
moves bytes and names what failed on the network.
"""

import os
import time
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from typing import Protocol

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
from .core import Retries
from .errors import FaaSError
from .results import Call
from .wire import PreparedRequest

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
    """A requests session whose own `verify` wins over REQUESTS_CA_BUNDLE, and that also
    reads SSL_CERT_FILE (as httpx and OpenSSL do) when it trusts the environment."""

    explicit_verify: bool | str | None = None

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
    if proxies:
        session.proxies.update(proxies)
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


def send(
    session: requests.Session,
    auth: Auth,
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
    authorization = auth.header()
    status, headers, raw = exchange(session, request, authorization, timeouts, what, call, retries)
    if core.may_be_dead_token(status, service, request.method, principal) and auth.refresh(
        failed=authorization
    ):
        status, headers, raw = exchange(
            session, request, auth.header(), timeouts, what, call, retries
        )
    return core.classify(
        status, headers, raw, call=call, what=what, method=request.method, principal=principal
    )


def exchange(
    session: requests.Session,
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
    retried = connects = 0
    while True:
        started = time.perf_counter()
        try:
            response = session.request(
                request.method,
                request.url,
                params=list(request.params),
                data=form if form is not None else request.body(),
                headers=headers,
                timeout=timeouts,
                allow_redirects=False,
                stream=True,
            )
            with response:
                redirected = 300 <= response.status_code < 400
                raw = b"" if redirected else read_body(response, request_id=call.request_id)
        except requests.RequestException as exc:
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
                    read_timeout=timeouts[1],
                    request_id=call.request_id,
                ) from exc
            retried, connects = retried + 1, connects + 1
            time.sleep(delay)
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
        time.sleep(delay)


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


def transport_error(
    exc: requests.RequestException,
    what: str,
    *,
    posted: bool,
    read_timeout: float | None,
    request_id: str | None = None,
) -> FaaSError:
    """Turn a requests exception into a FaaSError that says whether the function could have run."""
    return core.network_error(
        stage_of(exc),
        what,
        name=type(exc).__name__,
        posted=posted,
        read_timeout=read_timeout,
        request_id=request_id,
    )


def _reason(exc: Exception) -> object:
    """Return the urllib3 error inside a requests exception (unwrapping MaxRetryError)."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", inner)
