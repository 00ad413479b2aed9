"""HTTP plumbing: a pooled session, the retry policy, one call sent, bounded reads, errors."""

import random
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ConnectTimeout
from requests.exceptions import SSLError
from requests.exceptions import Timeout
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .catalogue import explain_forbidden
from .errors import FaaSConnectionError
from .errors import FaaSError
from .errors import FaaSTimeout
from .errors import error_from_response
from .errors import sanitize

CONNECT_TIMEOUT = 5
INVOKE_READ_TIMEOUT = 35  # functions may run 30 s; leave room for the platform's overhead
READ_TIMEOUT = 10
MAX_BODY_BYTES = 5 * 1024 * 1024
POOL_SIZE = 32
ATTEMPTS = 3
BACKOFF_FACTOR = 0.25
BACKOFF_JITTER = 0.25
RETRY_AFTER_CAP = 10
# LivePerson's error-codes page calls 500, 502 and 504 possibly temporary. Only GETs are
# retried on a status: a POST that reached the gateway may have run the function.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHUNK = 64 * 1024


class JitteredRetry(Retry):
    """A urllib3 Retry that waits a jittered backoff before every retry, the first included."""

    def get_backoff_time(self):
        """Return `factor * 2**(n-1) + jitter` for the n-th retry, capped at `backoff_max`."""
        retries = len(self.history)
        if retries == 0:
            return 0
        delay = self.backoff_factor * 2 ** (retries - 1) + random.uniform(0, self.backoff_jitter)
        return min(self.backoff_max, delay)


def retry_policy():
    """Return the policy: connect errors retried for every method, statuses only for GETs."""
    # Read errors are never retried: once a POST reached the server the function may have
    # run, and a second attempt could run it twice. urllib3 checks `allowed_methods` for
    # status and read retries but not for connect errors, which is exactly that split.
    # A refused connection is tried once more at most: a down gateway fails fast.
    return JitteredRetry(
        total=ATTEMPTS - 1,
        connect=1,
        read=False,
        status=ATTEMPTS - 1,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_jitter=BACKOFF_JITTER,
        backoff_max=RETRY_AFTER_CAP,
        retry_after_max=RETRY_AFTER_CAP,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def make_session(pool_size=POOL_SIZE):
    """Return a keep-alive session with the retry policy, ignoring proxy environment variables."""
    session = requests.Session()
    # Scanning the environment for proxies costs ~0.35 ms per call, and .netrc must never
    # add credentials to our requests.
    session.trust_env = False
    # A client may serve many users; a cookie set for one must never ride along for another.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry_policy())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def read_body(response, limit=MAX_BODY_BYTES, request_id=None):
    """Read a streamed response body, stopping with a FaaSError once it passes `limit` bytes."""
    try:
        declared = int(response.headers.get("Content-Length", ""))
    except ValueError:
        declared = None
    if declared is not None and declared > limit:
        response.close()
        raise _too_large(response, limit, request_id)
    chunks, size = [], 0
    # iter_content decodes gzip, so this also bounds what a compressed body expands to.
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise _too_large(response, limit, request_id)
        chunks.append(chunk)
    return b"".join(chunks)


def send(session, auth, request, timeouts, call, service):
    """Send one call (replaying it once with a renewed token after a refusal that may mean a
    dead token) and return `(status, body bytes)`."""
    where = urlsplit(request.url)
    what = f"LivePerson Functions ({service}) at {where.scheme}://{where.netloc}"
    authorization = auth.header()
    response, raw = _exchange(session, request, authorization, timeouts, what, call)
    if may_be_dead_token(response.status_code, service, request, auth) and auth.refresh(
        failed=authorization
    ):
        response, raw = _exchange(session, request, auth.header(), timeouts, what, call)
    status = call.status = response.status_code
    call.content_type = response.headers.get("Content-Type")
    if 300 <= status < 400:
        location = urlsplit(response.headers.get("Location", ""))
        target = sanitize(f"{location.scheme}://{location.netloc}{location.path}", 120)
        raise FaaSError(
            f"{what} answered HTTP {status}, a redirect to {target}; redirects are not followed.",
            kind="redirect",
            status=status,
            request_id=call.request_id,
        )
    if not 200 <= status < 300:
        error = error_from_response(
            status, raw, call.request_id, response.headers.get("Retry-After")
        )
        if status == 403:
            # The platform's 403 body names no permission; the operation tells which.
            principal = getattr(auth, "principal", "user")
            error.explanation, error.advice = explain_forbidden(call.operation, principal)
        raise error
    return status, raw


def may_be_dead_token(status, service, request, auth):
    """Tell whether a refusal may mean an expired or revoked token rather than a permission.

    The gateway answers a dead bearer with 401, which never ran anything. faasUI answers it
    with 403 (LivePerson's Node client tests: "403 for a wrong bearer"), the same as for a
    missing permission, so a user's read gets one renewed token before 403 is believed. An
    app token's 403 at faasUI is by design (lists need a user), so it is not renewed for it.
    """
    if status == 401:
        return True
    user = getattr(auth, "principal", "user") == "user"
    return status == 403 and service == "faasUI" and request.method == "GET" and user


def _exchange(session, request, authorization, timeouts, what, call):
    """Make one HTTP request (urllib3 may retry it per the policy) and read it, bounded."""
    try:
        response = session.request(
            request.method,
            request.url,
            params=list(request.params),
            data=request.body(),
            headers={**request.headers, "Authorization": authorization},
            timeout=timeouts,
            allow_redirects=False,
            stream=True,
        )
        with response:
            if 300 <= response.status_code < 400:
                return response, b""
            return response, read_body(response, request_id=call.request_id)
    except requests.RequestException as exc:
        raise transport_error(
            exc,
            what,
            posted=request.method == "POST",
            read_timeout=timeouts[1],
            request_id=call.request_id,
        ) from exc


def never_connected(exc):
    """Tell whether a requests exception proves no connection was opened (nothing was sent)."""
    if isinstance(exc, ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, SSLError):
        return False
    return isinstance(_reason(exc), NewConnectionError | ConnectTimeoutError)


def transport_error(exc, what, *, posted, read_timeout, request_id=None):
    """Turn a requests exception into a FaaSError that says whether the function could have run."""
    name = type(exc).__name__
    if never_connected(exc):
        suffix = "; the function did not run." if posted else "."
        return FaaSConnectionError(
            f"Could not connect to {what} ({name}){suffix}", kind="connect", request_id=request_id
        )
    if isinstance(exc, SSLError):
        return FaaSConnectionError(
            f"The secure connection to {what} failed ({name}).", kind="tls", request_id=request_id
        )
    # requests reports a timeout while streaming the body as a ConnectionError.
    timed_out = isinstance(exc, Timeout) or isinstance(_reason(exc), ReadTimeoutError)
    if posted and timed_out:
        return FaaSTimeout(
            f"{what} did not answer within {read_timeout:g} s; the function may or may not "
            "have run.",
            kind="read-timeout",
            request_id=request_id,
        )
    if posted:
        return FaaSConnectionError(
            f"The connection to {what} broke after the request was sent ({name}); the "
            "function may or may not have run.",
            kind="broken",
            request_id=request_id,
        )
    if timed_out:
        message = f"{what} did not answer within {read_timeout:g} s."
        return FaaSTimeout(message, kind="timeout", request_id=request_id)
    return FaaSConnectionError(
        f"The connection to {what} failed ({name}).", kind="broken", request_id=request_id
    )


def _reason(exc):
    """Return the urllib3 error inside a requests exception (unwrapping MaxRetryError)."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", inner)


def _too_large(response, limit, request_id):
    return FaaSError(
        f"The answer from {response.url.split('?')[0]} (HTTP {response.status_code}) is larger "
        f"than {limit // (1024 * 1024)} MB; reading stopped.",
        kind="too-large",
        status=response.status_code,
        request_id=request_id,
    )
