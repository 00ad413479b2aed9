"""The I/O-free core both clients share: what an answer means, when to retry or renew a token.

Every call is written once, here and in `client.ClientCore`, as a generator that yields the
I/O it needs (an effect: Locate, Authorize, Renew, Attempt, Pause) and receives its result.
The sync client performs the effects with requests, the async one with httpx; neither holds
a rule of its own: the classification of answers into results and errors, the retry policy,
which refusals may mean a dead token, and how long an app token is kept are all here.
"""

import json
import logging
import random
import time
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar
from urllib.parse import quote
from urllib.parse import urlsplit

from .catalogue import explain_forbidden
from .errors import DiscoveryError
from .errors import FaaSConnectionError
from .errors import FaaSError
from .errors import FaaSInputError
from .errors import FaaSTimeout
from .errors import error_from_response
from .errors import parse_retry_after
from .errors import sanitize
from .results import Call
from .wire import PreparedRequest

CONNECT_TIMEOUT = 5.0
INVOKE_READ_TIMEOUT = 35.0  # functions may run 30 s; leave room for the platform's overhead
READ_TIMEOUT = 10.0
MAX_BODY_BYTES = 5 * 1024 * 1024
# LivePerson's error-codes page calls 500, 502 and 504 possibly temporary.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_CAP = 10.0
BACKOFF_FACTOR = 0.25
BACKOFF_JITTER = 0.25
# A refused connection is tried once more at most: a down gateway fails fast.
CONNECT_RETRIES = 1
# Only these are retried on a status: a POST that reached the gateway may have run the function.
RETRIED_METHODS = frozenset({"GET"})

R = TypeVar("R")
# A call written once: it yields effects and receives what performing each gave.
Steps = Generator[Any, Any, R]


@dataclass(frozen=True)
class Locate:
    """Find a service: answers `(domain, base URL)`, or raises DiscoveryError."""

    service: str


@dataclass(frozen=True)
class Authorize:
    """Get the Authorization header value of the call's principal."""


@dataclass(frozen=True)
class Renew:
    """Renew the token that `failed`; answers whether a replay could now succeed."""

    failed: str


@dataclass(frozen=True)
class Attempt:
    """Make one HTTP request and read its answer (bounded): answers `(status, headers, body)`,
    or raises NetworkFailure naming where it failed."""

    request: PreparedRequest
    authorization: str | None
    timeouts: tuple[float, float]
    form: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Pause:
    """Wait before the next attempt."""

    seconds: float


class NetworkFailure(Exception):
    """What a transport raises for an Attempt that got no answer: the stage, and the
    transport's own exception name (its exception is the cause)."""

    def __init__(self, stage: str, name: str) -> None:
        super().__init__(f"{stage}: {name}")
        self.stage = stage
        self.name = name


MAX_REFRESH_BUFFER = 300  # renew at most 5 minutes early...
OPAQUE_TOKEN_LIFETIME = 60  # ...and keep a token whose expiry we cannot read only briefly
FAILED_FETCH_BACKOFF = 10  # after a failed renewal, keep the old token this long before retrying


@dataclass(frozen=True)
class Retries:
    """How often a call is tried again, and how long it waits in between.

    `total` retries at most; a GET is retried on the `statuses` (Retry-After is honoured, up
    to 10 s), any call once when no connection could be opened (nothing was sent). A POST is
    never sent again once it reached the server: the function may have run. The n-th retry
    waits `backoff * 2**(n-1)` seconds plus up to `jitter`.
    """

    total: int = 2
    backoff: float = BACKOFF_FACTOR
    jitter: float = BACKOFF_JITTER
    statuses: frozenset[int] = field(default=RETRY_STATUSES)

    def delay(
        self,
        method: str,
        retried: int,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        connect_failed: bool = False,
        connects_retried: int = 0,
    ) -> float | None:
        """Return seconds to wait before trying again, or None when the call must not be."""
        if retried >= self.total:
            return None
        if connect_failed:
            if connects_retried >= CONNECT_RETRIES:
                return None
        elif method not in RETRIED_METHODS or status not in self.statuses:
            return None
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(float(asked), RETRY_AFTER_CAP)
        wait = self.backoff * 2**retried + random.uniform(0, self.jitter)
        return float(min(RETRY_AFTER_CAP, wait))


DEFAULT_RETRIES: Retries = Retries()


def retries_from(value: "Retries | int | None") -> Retries:
    """Read `retries=`: a Retries, a number of retries (0: none), or None for the default."""
    if value is None:
        return DEFAULT_RETRIES
    if isinstance(value, Retries):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaaSInputError(f"retries must be a Retries or a number >= 0, not {value!r}")
    return Retries(total=value)


def describe(service: str, url: str) -> str:
    """Name the service a URL belongs to, for messages: `LivePerson Functions (faasGW) at …`."""
    where = urlsplit(url)
    return f"LivePerson Functions ({service}) at {where.scheme}://{where.netloc}"


def may_be_dead_token(status: int, service: str, method: str, principal: str) -> bool:
    """Tell whether a refusal may mean an expired or revoked token rather than a permission.

    The gateway answers a dead bearer with 401, which never ran anything. faasUI answers it
    with 403 (LivePerson's Node client tests: "403 for a wrong bearer"), the same as for a
    missing permission, so a user's read gets one renewed token before 403 is believed. An
    app token's 403 at faasUI is by design (lists need a user), so it is not renewed for it.
    """
    if status == 401:
        return True
    return status == 403 and service == "faasUI" and method == "GET" and principal == "user"


def classify(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    call: Call,
    what: str,
    method: str,
    principal: str,
) -> tuple[int, bytes]:
    """Return `(status, body)` of a successful answer; raise the FaaSError any other one means."""
    call.status = status
    call.content_type = headers.get("Content-Type")
    if 300 <= status < 400:
        location = urlsplit(headers.get("Location", ""))
        target = sanitize(f"{location.scheme}://{location.netloc}{location.path}", 120)
        raise FaaSError(
            f"{what} answered HTTP {status}, a redirect to {target}; redirects are not followed.",
            kind="redirect",
            status=status,
            request_id=call.request_id,
        )
    if not 200 <= status < 300:
        error = error_from_response(status, raw, call.request_id, headers.get("Retry-After"))
        if status == 403:
            # The platform's 403 body names no permission; the operation tells which.
            error.explanation, error.advice = explain_forbidden(call.operation, principal)
        # A gateway timeout on an invocation: the function may have run all the same.
        error.may_have_run = status == 504 and method == "POST"
        raise error
    return status, raw


# What went wrong on the network, as each transport reports it.
CONNECT, TLS, TIMEOUT, BROKEN = "connect", "tls", "timeout", "broken"


def network_error(
    stage: str,
    what: str,
    *,
    name: str,
    posted: bool,
    read_timeout: float | None,
    request_id: str | None = None,
) -> FaaSError:
    """Turn a network failure at `stage` into a FaaSError saying whether the function ran."""
    if stage == CONNECT:
        suffix = "; the function did not run." if posted else "."
        return FaaSConnectionError(
            f"Could not connect to {what} ({name}){suffix}", kind="connect", request_id=request_id
        )
    if stage == TLS:
        return FaaSConnectionError(
            f"The secure connection to {what} failed ({name}).", kind="tls", request_id=request_id
        )
    waited = f"{read_timeout:g} s" if read_timeout else "the time allowed"
    if posted and stage == TIMEOUT:
        return FaaSTimeout(
            f"{what} did not answer within {waited}; the function may or may not have run.",
            kind="read-timeout",
            request_id=request_id,
            may_have_run=True,
        )
    if posted:
        return FaaSConnectionError(
            f"The connection to {what} broke after the request was sent ({name}); the "
            "function may or may not have run.",
            kind="broken",
            request_id=request_id,
            may_have_run=True,
        )
    if stage == TIMEOUT:
        message = f"{what} did not answer within {waited}."
        return FaaSTimeout(message, kind="timeout", request_id=request_id)
    return FaaSConnectionError(
        f"The connection to {what} failed ({name}).", kind="broken", request_id=request_id
    )


def too_large(url: str, status: int, limit: int, request_id: str | None) -> FaaSError:
    """The error for an answer past the size limit."""
    return FaaSError(
        f"The answer from {url.split('?')[0]} (HTTP {status}) is larger than "
        f"{limit // (1024 * 1024)} MB; reading stopped.",
        kind="too-large",
        status=status,
        request_id=request_id,
    )


def declared_too_large(headers: Mapping[str, str], limit: int = MAX_BODY_BYTES) -> bool:
    """Tell whether an answer's Content-Length is past the limit already."""
    try:
        return int(headers.get("Content-Length", "")) > limit
    except ValueError:
        return False


def timeouts(
    own: tuple[float | None, float | None] | None,
    client: tuple[float | None, float | None] | None,
    read_default: float,
) -> tuple[float, float]:
    """A call's own timeout, else the client's, else the defaults: `(connect, read)`."""
    own, client = own or (None, None), client or (None, None)
    return own[0] or client[0] or CONNECT_TIMEOUT, own[1] or client[1] or read_default


def exchange(
    request: PreparedRequest,
    authorization: str | None,
    timeouts: tuple[float, float],
    what: str,
    call: Call,
    retries: Retries,
    form: Mapping[str, str] | None = None,
) -> Steps[tuple[int, Mapping[str, str], bytes]]:
    """Make one HTTP request, tried again as `retries` allows; answer `(status, headers, body)`."""
    retried = connects = 0
    while True:
        started = time.perf_counter()
        try:
            status, headers, raw = yield Attempt(request, authorization, timeouts, form)
        except NetworkFailure as failure:
            log_exchange(request, None, started, call)
            delay = retries.delay(
                request.method,
                retried,
                connect_failed=failure.stage == CONNECT,
                connects_retried=connects,
            )
            if delay is None:
                raise network_error(
                    failure.stage,
                    what,
                    name=failure.name,
                    # A form is Sentinel's token call: whatever happened, no function ran.
                    posted=request.method == "POST" and form is None,
                    read_timeout=timeouts[1],
                    request_id=call.request_id,
                ) from failure.__cause__
            retried, connects = retried + 1, connects + 1
            yield Pause(delay)
            continue
        log_exchange(request, status, started, call)
        delay = retries.delay(
            request.method, retried, status=status, retry_after=headers.get("Retry-After")
        )
        if delay is None:
            return status, headers, raw
        retried += 1
        yield Pause(delay)


def send(
    request: PreparedRequest,
    timeouts: tuple[float, float],
    call: Call,
    service: str,
    principal: str,
    retries: Retries,
) -> Steps[tuple[int, bytes]]:
    """Send one call (replaying it once with a renewed token after a refusal that may mean a
    dead token); answer `(status, body)` of a success, or raise what the answer means."""
    what = describe(service, request.url)
    authorization = yield Authorize()
    status, headers, raw = yield from exchange(
        request, authorization, timeouts, what, call, retries
    )
    if may_be_dead_token(status, service, request.method, principal) and (
        yield Renew(authorization)
    ):
        authorization = yield Authorize()
        status, headers, raw = yield from exchange(
            request, authorization, timeouts, what, call, retries
        )
    return classify(
        status, headers, raw, call=call, what=what, method=request.method, principal=principal
    )


def locate(service: str, call: Call) -> Steps[tuple[str, str]]:
    """Find a service's `(domain, base URL)`; a failure is a FaaSError of kind discovery."""
    try:
        found: tuple[str, str] = yield Locate(service)
    except DiscoveryError as exc:
        raise FaaSError(str(exc), kind="discovery", request_id=call.request_id) from exc
    return found


# App tokens (client credentials): the request, the answer, and how long a token is kept.


def token_request(
    base: str,
    account_id: str,
    client_id: str,
    client_secret: str,
    user_agent: str,
    request_id: str,
) -> tuple[str, dict[str, str], dict[str, str], dict[str, str]]:
    """Return `(url, params, form, headers)` of Sentinel's client-credentials token call."""
    url = f"{base}/sentinel/api/account/{quote(account_id, safe='')}/app/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    headers = {"Accept": "application/json", "User-Agent": user_agent, "X-Request-ID": request_id}
    return url, {"v": "2.0"}, form, headers


def sentinel_what(base: str) -> str:
    return f"LivePerson's authorization server (Sentinel) at {base}"


def read_token(
    status: int, body: bytes, *, what: str, client_id: str, request_id: str
) -> tuple[str, Any]:
    """Return `(access_token, expires_in)` from Sentinel's answer, or raise a FaaSError."""
    if status != 200:
        detail = error_from_response(status, body, request_id)
        raise FaaSError(
            f"{what} refused to issue an app token for client {client_id!r}: "
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
    return token, data.get("expires_in")


class TokenState:
    """An app token and the rules for keeping it: renew early, survive a failed renewal."""

    def __init__(self, expiry: Callable[[str, Any, float], float]) -> None:
        self._expiry = expiry
        self.token: str | None = None
        self.expires_at = 0.0
        self.renew_at = 0.0
        self.retry_at = 0.0

    def current(self, now: float) -> str | None:
        """Return the token while it may be used without a fetch, else None."""
        fresh = now < self.renew_at
        backing_off = now < min(self.retry_at, self.expires_at)
        return self.token if self.token and (fresh or backing_off) else None

    def keep_after_failure(self, now: float) -> bool:
        """After a failed renewal: keep the old token (and back off) if it is still valid."""
        if not self.token or now >= self.expires_at:
            return False
        self.retry_at = now + FAILED_FETCH_BACKOFF
        return True

    def store(self, token: str, expires_in: Any, now: float) -> None:
        """Keep a new token, to be renewed before it expires (half its life, at most 5 min)."""
        expires_at = self._expiry(token, expires_in, now)
        lifetime = max(0.0, expires_at - now)
        self.token = token
        self.expires_at = expires_at
        self.renew_at = expires_at - min(MAX_REFRESH_BUFFER, lifetime / 2)
        self.retry_at = 0.0

    def is_current(self, header: str | None) -> bool:
        """Tell whether a rejected Authorization header still holds the current token."""
        return header is None or header == f"Bearer {self.token}"


log = logging.getLogger("liveperson_functions")


def log_exchange(request: PreparedRequest, status: int | None, started: float, call: Call) -> None:
    """One DEBUG record per HTTP call: method, path (no query), status, ms and request id.

    Never a token or a payload: neither is in these fields.
    """
    if log.isEnabledFor(logging.DEBUG):
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        path = urlsplit(request.url).path
        log.debug(
            "HTTP %s %s -> %s in %.1f ms (request id %s)",
            request.method,
            path,
            status if status is not None else "no answer",
            elapsed,
            call.request_id,
            extra={
                "faas_method": request.method,
                "faas_path": path,
                "faas_status": status,
                "faas_ms": elapsed,
                "faas_request_id": call.request_id,
            },
        )
