"""FunctionsClient: invoke LivePerson Functions, query events and list functions over HTTP."""

import json
import logging
import re
import threading
import time
import uuid as uuidlib
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

import requests

from liveperson_functions.discovery import DiscoveryError

from . import __version__
from .catalogue import explain_forbidden
from .errors import FaaSError
from .errors import error_from_response
from .errors import sanitize
from .transport import CONNECT_TIMEOUT
from .transport import INVOKE_READ_TIMEOUT
from .transport import READ_TIMEOUT
from .transport import make_session
from .transport import read_body
from .transport import transport_error

log = logging.getLogger(__name__)

USER_AGENT = f"functions-invoker/{__version__}"
DEFAULT_EVENT_SOURCE = "Unknown"
IMPLEMENTED_TTL = 60  # the official clients cache isImplemented answers for 60 s
IMPLEMENTED_CACHE_MAX = 1024
PLATFORMS = ("v1", "v2")
# The official clients treat an account as Functions V2 when its host name says so.
V2_MARKERS = ("fninvocations", "functions")

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
EVENT_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SKILL_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
EVENT_SOURCE_RE = re.compile(r"^[!-~]([ -~]{0,126}[!-~])?$")  # printable ASCII, header-safe


@dataclass(frozen=True)
class Invocation:
    """The outcome of a successful invocation by UUID."""

    result: Any
    status: int
    duration_ms: float
    request_id: str
    domain: str
    logs: list = field(default_factory=list)
    content_type: str | None = None  # the gateway's Content-Type header


@dataclass(frozen=True)
class EventResult:
    """One function's answer to an invocation by event."""

    uuid: str | None
    timestamp: Any
    result: Any


@dataclass(frozen=True)
class CallMetric:
    """What the metrics hook receives after every client call."""

    operation: str
    account: str
    uuid: str | None
    event: str | None
    status: int | None
    duration_ms: float
    error: str | None
    from_cache: bool
    domain: str | None = None
    request_id: str | None = None
    platform: str | None = None


@dataclass
class _Call:
    """What one public call learned so far, for its result and its metric."""

    operation: str = ""
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    domain: str | None = None
    request_id: str | None = None
    platform: str | None = None
    from_cache: bool = False
    content_type: str | None = None

    def elapsed_ms(self):
        return round((time.perf_counter() - self.started) * 1000, 3)


class FunctionsClient:
    """Call LivePerson Functions for one account; thread-safe, one pooled session per client.

    `user_id` is the id of the user whose token `auth` sends: LivePerson documents the
    user-token invocation as `…/invoke?v=1&userId={userId}`, and its CLI and Java client send
    `userId` to faasUI, so every call then carries it. Leave it unset for an app token.
    """

    def __init__(
        self,
        account_id,
        auth,
        resolver,
        *,
        user_id=None,
        platform=None,
        event_source=None,
        metrics=None,
        session=None,
        user_agent=USER_AGENT,
        clock=time.monotonic,
        implemented_ttl=IMPLEMENTED_TTL,
    ):
        self.account_id = str(account_id)
        if not ACCOUNT_RE.match(self.account_id):
            raise ValueError(f"invalid LivePerson account id: {self.account_id!r}")
        if platform not in (None, *PLATFORMS):
            raise ValueError(f"platform must be 'v1', 'v2' or None, not {platform!r}")
        self.auth = auth
        self.user_id = _check_user_id(user_id)
        self.resolver = resolver
        self.platform = platform
        self.event_source = _check_event_source(event_source or DEFAULT_EVENT_SOURCE)
        self.metrics = metrics
        self.user_agent = user_agent
        self._owns_session = session is None
        self.session = session or make_session()
        self._clock = clock
        self._implemented_ttl = implemented_ttl
        self._implemented = {}
        self._implemented_lock = threading.Lock()

    def close(self):
        """Close the client's own connection pool (a session passed in is left open)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    def invoke(
        self,
        uuid,
        payload,
        headers=None,
        skill_id=None,
        event_source=None,
        request_id=None,
        timeout=None,
    ):
        """Invoke a function by UUID and return its `Invocation` result."""
        with self._measure("invoke", uuid=str(uuid)) as call:
            uuid = _check_uuid(uuid)
            body = _invocation_body(payload, headers)
            status, raw = self._gateway(
                call,
                "POST",
                ("lambdas", uuid, "invoke"),
                skill_id=skill_id,
                event_source=event_source,
                request_id=request_id,
                read_timeout=_check_timeout(timeout, INVOKE_READ_TIMEOUT),
                body=body,
            )
            result, logs = _split_logs(_parse(raw))
            return Invocation(
                result=result,
                status=status,
                duration_ms=call.elapsed_ms(),
                request_id=call.request_id,
                domain=call.domain,
                logs=logs,
                content_type=call.content_type,
            )

    def invoke_event(
        self,
        event_id,
        payload,
        headers=None,
        skill_id=None,
        event_source=None,
        request_id=None,
        timeout=None,
    ):
        """Invoke every function implementing an event; return their `EventResult`s, [] if none."""
        with self._measure("invoke_event", event=str(event_id)) as call:
            event_id = _check_event(event_id)
            body = _invocation_body(payload, headers)
            _, raw = self._gateway(
                call,
                "POST",
                ("events", event_id, "invoke"),
                skill_id=skill_id,
                event_source=event_source,
                request_id=request_id,
                read_timeout=_check_timeout(timeout, INVOKE_READ_TIMEOUT),
                body=body,
            )
            data = _parse(raw)
            if data is None:
                return []
            if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
                raise _bad_response("an invocation by event", "a list of results", call)
            return [EventResult(i.get("uuid"), i.get("timestamp"), i.get("result")) for i in data]

    def is_implemented(self, event_id, skill_id=None):
        """Tell whether any function implements an event (for a skill); cached for 60 s."""
        with self._measure("is_implemented", event=str(event_id)) as call:
            event_id = _check_event(event_id)
            skill = _check_skill(skill_id)
            key = (event_id, skill)
            with self._implemented_lock:
                cached = self._implemented.get(key)
            if cached is not None and self._clock() < cached[1]:
                call.from_cache = True
                return cached[0]
            _, raw = self._gateway(
                call,
                "GET",
                ("events", event_id, "isImplemented"),
                skill_id=skill,
                event_source=None,
                request_id=None,
                read_timeout=READ_TIMEOUT,
            )
            data = _parse(raw)
            if not isinstance(data, dict) or not isinstance(data.get("implemented"), bool):
                raise _bad_response("isImplemented", '{"implemented": true|false}', call)
            self._remember(key, data["implemented"])
            return data["implemented"]

    def list_functions(self, state=None, event_id=None, name=None, user_id=None):
        """List the account's functions (V1 lambdas or V2 functions) in one normalised shape."""
        with self._measure("list_functions", event=event_id) as call:
            states = _states(state)
            user_id = self.user_id if user_id is None else _check_user_id(user_id)
            platform = self._locate(call, "faasUI")
            params = []
            if platform == "v1":
                params.append(("v", "1"))
            if user_id is not None:
                params.append(("userId", user_id))
            params += [("state", s) for s in states]
            if event_id is not None:
                params.append(("eventId", str(event_id)))
            if name is not None:
                params.append(("name" if platform == "v1" else "functionName", str(name)))
            _, raw = self._send(
                call,
                "GET",
                "faasUI",
                ("lambdas",) if platform == "v1" else ("functions",),
                params=params,
                read_timeout=READ_TIMEOUT,
            )
            data = _parse(raw)
            if not isinstance(data, list):
                raise _bad_response("the function list", "a list of functions", call)
            return [_normalise(item, platform) for item in data if isinstance(item, dict)]

    def _gateway(self, call, method, segments, *, skill_id, event_source, request_id, **kw):
        """Send a gateway call with the V1 query or the V2 header for the event source."""
        source = self.event_source if event_source is None else _check_event_source(event_source)
        skill = _check_skill(skill_id)
        request_id = _check_request_id(request_id)
        platform = self._locate(call, "faasGW")
        headers = {}
        if platform == "v1":
            params = [("v", "1"), ("externalSystem", source)]
        else:
            params = []
            headers["LP-EventSource"] = source
        if self.user_id is not None:
            params.append(("userId", self.user_id))
        if skill is not None:
            params.append(("skillId", skill))
        return self._send(
            call,
            method,
            "faasGW",
            segments,
            params=params,
            headers=headers,
            request_id=request_id,
            **kw,
        )

    def _locate(self, call, service):
        """Resolve a service's domain into `call` and return the platform it implies."""
        try:
            call.domain = self.resolver.domain(service)
        except DiscoveryError as exc:
            raise FaaSError(str(exc), kind="discovery") from exc
        call.platform = self.platform or (
            "v2" if any(marker in call.domain.lower() for marker in V2_MARKERS) else "v1"
        )
        return call.platform

    def _send(
        self,
        call,
        method,
        service,
        segments,
        *,
        params,
        read_timeout,
        headers=None,
        body=None,
        request_id=None,
    ):
        """Send one call (replaying it once after a 401) and return `(status, body bytes)`."""
        call.request_id = _check_request_id(request_id) or str(uuidlib.uuid4())
        try:
            base = self.resolver.base_url(service)
        except DiscoveryError as exc:
            raise FaaSError(str(exc), kind="discovery", request_id=call.request_id) from exc
        path = "/".join(quote(part, safe="") for part in ("api", "account", self.account_id))
        path += "/" + "/".join(quote(part, safe="") for part in segments)
        request = {
            "method": method,
            "url": f"{base}/{path}",
            "params": params,
            "data": None if body is None else json.dumps(body, allow_nan=False).encode(),
            "timeout": (CONNECT_TIMEOUT, read_timeout),
            "headers": {
                "X-Request-ID": call.request_id,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": self.user_agent,
                **(headers or {}),
            },
        }
        what = f"LivePerson Functions ({service}) at {base}"
        authorization = self.auth.header()
        response, raw = self._exchange(request, authorization, what, call)
        if response.status_code == 401 and self.auth.refresh(failed=authorization):
            response, raw = self._exchange(request, self.auth.header(), what, call)
        status = call.status = response.status_code
        call.content_type = response.headers.get("Content-Type")
        if 300 <= status < 400:
            location = urlsplit(response.headers.get("Location", ""))
            target = sanitize(f"{location.scheme}://{location.netloc}{location.path}", 120)
            raise FaaSError(
                f"{what} answered HTTP {status}, a redirect to {target}; redirects are not "
                "followed.",
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
                principal = getattr(self.auth, "principal", "user")
                error.explanation, error.advice = explain_forbidden(call.operation, principal)
            raise error
        return status, raw

    def _exchange(self, request, authorization, what, call):
        """Make one HTTP request (urllib3 may retry it per the policy) and read it, bounded."""
        posted = request["method"] == "POST"
        try:
            response = self.session.request(
                **{**request, "headers": {**request["headers"], "Authorization": authorization}},
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
                posted=posted,
                read_timeout=request["timeout"][1],
                request_id=call.request_id,
            ) from exc

    def _remember(self, key, implemented):
        now = self._clock()
        with self._implemented_lock:
            if len(self._implemented) >= IMPLEMENTED_CACHE_MAX:
                # Event ids can come from users; keep the cache from growing without bound.
                fresh = {k: v for k, v in self._implemented.items() if v[1] > now}
                while len(fresh) >= IMPLEMENTED_CACHE_MAX:
                    fresh.pop(next(iter(fresh)))
                self._implemented = fresh
            self._implemented[key] = (implemented, now + self._implemented_ttl)

    @contextmanager
    def _measure(self, operation, *, uuid=None, event=None):
        """Time a call and report it to the metrics hook, whether it succeeds or fails."""
        call = _Call(operation)
        error = None
        try:
            yield call
        except BaseException as exc:
            error = type(exc).__name__
            if call.status is None:
                call.status = getattr(exc, "status", None)
            raise
        finally:
            if self.metrics is not None:
                self._emit(
                    CallMetric(
                        operation=operation,
                        account=self.account_id,
                        uuid=uuid,
                        event=event,
                        status=call.status,
                        duration_ms=call.elapsed_ms(),
                        error=error,
                        from_cache=call.from_cache,
                        domain=call.domain,
                        request_id=call.request_id,
                        platform=call.platform,
                    )
                )

    def _emit(self, metric):
        try:
            self.metrics(metric)
        except Exception:
            # A broken metrics sink must not turn a successful call into a failure.
            log.exception("The FaaS metrics hook raised; metric dropped")


def _check_uuid(value):
    text = str(value)
    if not UUID_RE.match(text):
        raise ValueError(f"not a function UUID (8-4-4-4-12 hex): {text!r}")
    return text.lower()


def _check_event(value):
    text = str(value)
    if not EVENT_RE.match(text):
        raise ValueError(f"invalid event id (letters, digits, _ . : - only): {text!r}")
    return text


def _check_skill(value):
    if value is None or value == "":
        return None
    text = str(value)
    if not SKILL_RE.match(text):
        raise ValueError(f"invalid skill id: {text!r}")
    return text


def _check_user_id(value):
    if value is None or value == "":
        return None
    text = str(value)
    if not SKILL_RE.match(text):
        raise ValueError(f"invalid user id: {text!r}")
    return text


def _check_request_id(value):
    if value is None:
        return None
    text = str(value)
    if not REQUEST_ID_RE.match(text):
        raise ValueError(f"invalid request id: {text!r}")
    return text


def _check_event_source(value):
    text = str(value)
    if not EVENT_SOURCE_RE.match(text):
        raise ValueError(f"invalid event source (printable ASCII, at most 128): {text!r}")
    return text


def _check_timeout(value, default):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {value!r}")
    return value


def _states(state):
    if state is None:
        return []
    states = [state] if isinstance(state, str) else list(state)
    if not all(isinstance(s, str) and s for s in states):
        raise ValueError(f"invalid state filter: {state!r}")
    return states


def _invocation_body(payload, headers):
    """Build `{timestamp, headers: [{key, value}], payload}` as the official clients do."""
    if headers is None:
        pairs = []
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        pairs = [
            (h.get("key"), h.get("value")) if isinstance(h, Mapping) else tuple(h) for h in headers
        ]
    if not all(len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str) for p in pairs):
        raise ValueError("headers must map strings to strings")
    body = {
        "timestamp": int(time.time() * 1000),
        "headers": [{"key": key, "value": value} for key, value in pairs],
        # The Java client sends {} for a missing payload; the gateway rejects null.
        "payload": {} if payload is None else payload,
    }
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload is not JSON-serialisable: {exc}") from exc
    return body


def _parse(raw):
    """Return the body as JSON, as raw text when it is not JSON, or None when it is empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _split_logs(data):
    """Separate `{result, logs}` answers (test invocations) into result and logs."""
    wrapped = isinstance(data, dict) and data.keys() == {"result", "logs"}
    if wrapped and isinstance(data["logs"], list):
        return data["result"], data["logs"]
    return data, []


def _normalise(item, platform):
    """Map a V1 lambda or a V2 function to one shape."""

    def text(key):
        value = item.get(key)
        return None if value is None else str(value)

    skills = item.get("skills")
    return {
        "uuid": text("uuid"),
        "name": text("name"),
        "description": item.get("description") or "",
        "state": text("state"),
        "eventId": text("eventId"),
        "skills": list(skills) if isinstance(skills, list) else [],
        "samplePayload": item.get("samplePayload"),
        "createdBy": text("createdBy"),
        "createdAt": item.get("createdAt"),
        "updatedBy": text("updatedBy"),
        "updatedAt": item.get("updatedAt"),
        "platform": platform,
    }


def _bad_response(what, expected, call):
    return FaaSError(
        f"The answer to {what} from {call.domain} was not {expected}.",
        kind="bad-response",
        status=call.status,
        request_id=call.request_id,
    )
