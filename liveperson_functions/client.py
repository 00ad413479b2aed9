"""FunctionsClient: invoke LivePerson Functions, query events and list functions over HTTP."""

import functools
import inspect
import threading
import time
import typing
import uuid as uuidlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from typing import Concatenate
from typing import ParamSpec
from typing import TypeVar
from typing import cast

import requests
from cachetools import TTLCache

from . import core
from .core import INVOKE_READ_TIMEOUT
from .core import READ_TIMEOUT
from .core import Retries
from .core import Steps
from .discovery import Resolver
from .errors import FaaSError
from .inputs import Timeout
from .inputs import check_account
from .inputs import check_event
from .inputs import check_event_source
from .inputs import check_platform
from .inputs import check_request_id
from .inputs import check_skill
from .inputs import check_states
from .inputs import check_timeout
from .inputs import check_user_id
from .results import Call
from .results import EventResult
from .results import Invocation
from .results import Metrics
from .results import measure
from .transport import Auth
from .transport import Blocking
from .transport import make_session
from .wire import DEFAULT_EVENT_SOURCE
from .wire import USER_AGENT
from .wire import FunctionInfo
from .wire import Headers
from .wire import PreparedRequest
from .wire import invocation_body
from .wire import invoked
from .wire import normalise
from .wire import parse
from .wire import platform_for
from .wire import prepare
from .wire import prepare_gateway
from .wire import split_logs

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

IMPLEMENTED_TTL = 60  # the official clients cache isImplemented answers for 60 s
# Event ids can come from users; keep the cache from growing without bound.
IMPLEMENTED_CACHE_MAX = 1024


@dataclass(frozen=True)
class _Invoking:
    """An invocation's checked inputs, before its host is known."""

    segments: tuple[str, ...]
    body: dict[str, Any]
    event_source: str
    skill_id: str | None
    request_id: str | None


class ClientCore:
    """What both clients know and decide without I/O: settings, requests, answers, caches."""

    def __init__(
        self,
        account_id: str,
        auth: Any,
        resolver: Resolver,
        *,
        user_id: str | None = None,
        platform: str | None = None,
        event_source: str | None = None,
        timeout: Timeout | None = None,
        retries: Retries | int | None = None,
        user_agent: str = USER_AGENT,
        metrics: Metrics | None = None,
        _clock: Callable[[], float] = time.monotonic,
        _implemented_ttl: float = IMPLEMENTED_TTL,
    ) -> None:
        self.account_id = check_account(account_id)
        self.platform = check_platform(platform)
        self.auth = auth
        self.user_id = check_user_id(user_id)
        self.resolver = resolver
        self.event_source = check_event_source(event_source or DEFAULT_EVENT_SOURCE)
        self.timeout = check_timeout(timeout)
        self.retries = core.retries_from(retries)
        self.metrics = metrics
        self.user_agent = user_agent
        self._implemented: TTLCache[tuple[str, str | None], bool] = TTLCache(
            IMPLEMENTED_CACHE_MAX, _implemented_ttl, timer=_clock
        )
        self._implemented_lock = threading.Lock()

    def _measure(
        self, operation: str, *, uuid: str | None = None, event: str | None = None
    ) -> AbstractContextManager[Call]:
        return measure(self.metrics, self.account_id, operation, uuid=uuid, event=event)

    def _invoking(
        self,
        target: object,
        event: bool,
        payload: Any,
        headers: Headers | None,
        skill_id: str | int | None,
        event_source: str | None,
        request_id: str | None,
    ) -> _Invoking:
        """Check an invocation's inputs before anything is looked up or sent."""
        segments = (*invoked(target, event), "invoke")
        body = invocation_body(payload, headers)
        source = self.event_source if event_source is None else check_event_source(event_source)
        return _Invoking(
            segments, body, source, check_skill(skill_id), check_request_id(request_id)
        )

    def _invocation_request(self, call: Call, base: str, inv: _Invoking) -> PreparedRequest:
        assert call.platform is not None
        return prepare_gateway(
            "POST",
            base,
            self.account_id,
            inv.segments,
            platform=call.platform,
            event_source=inv.event_source,
            skill_id=inv.skill_id,
            user_id=self.user_id,
            request_id=call.request_id,
            user_agent=self.user_agent,
            body=inv.body,
        )

    def _locate(self, call: Call, service: str, request_id: str | None) -> Steps[str]:
        """Give the call its request id, domain and platform; answer the service's base URL."""
        call.request_id = request_id or str(uuidlib.uuid4())
        call.domain, base = yield from core.locate(service, call)
        call.platform = platform_for(call.domain, self.platform)
        return base

    def _send(
        self,
        call: Call,
        service: str,
        request: PreparedRequest,
        timeout: Timeout | None,
        read_default: float,
    ) -> Steps[tuple[int, bytes]]:
        timeouts = core.timeouts(check_timeout(timeout), self.timeout, read_default)
        principal = getattr(self.auth, "principal", "user")
        return (yield from core.send(request, timeouts, call, service, principal, self.retries))

    # The calls, written once; FunctionsClient and AsyncFunctionsClient run them.

    def _invoke(
        self,
        uuid: str,
        payload: Any = None,
        headers: Headers | None = None,
        skill_id: str | int | None = None,
        event_source: str | None = None,
        request_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> Steps[Invocation]:
        """Invoke a function by UUID and return its `Invocation` result."""
        with self._measure("invoke", uuid=str(uuid)) as call:
            inv = self._invoking(uuid, False, payload, headers, skill_id, event_source, request_id)
            status, raw = yield from self._post(call, inv, timeout)
            return self._invocation(call, status, raw)

    def _invoke_event(
        self,
        event_id: str,
        payload: Any = None,
        headers: Headers | None = None,
        skill_id: str | int | None = None,
        event_source: str | None = None,
        request_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> Steps[list[EventResult]]:
        """Invoke every function implementing an event; return their `EventResult`s, [] if none."""
        with self._measure("invoke_event", event=str(event_id)) as call:
            inv = self._invoking(
                event_id, True, payload, headers, skill_id, event_source, request_id
            )
            _, raw = yield from self._post(call, inv, timeout)
            return self._event_results(call, raw)

    def _is_implemented(
        self, event_id: str, skill_id: str | int | None = None, timeout: Timeout | None = None
    ) -> Steps[bool]:
        """Tell whether any function implements an event (for a skill); cached for 60 s."""
        with self._measure("is_implemented", event=str(event_id)) as call:
            key = self._implemented_key(event_id, skill_id)
            cached = self._cached_implemented(call, key)
            if cached is not None:
                return cached
            base = yield from self._locate(call, "faasGW", None)
            request = self._implemented_request(call, base, key)
            _, raw = yield from self._send(call, "faasGW", request, timeout, READ_TIMEOUT)
            return self._implemented_answer(call, key, raw)

    def _list_functions(
        self,
        state: str | Iterable[str] | None = None,
        event_id: str | None = None,
        name: str | None = None,
        user_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> Steps[list[FunctionInfo]]:
        """List the account's functions (V1 lambdas or V2 functions) in one normalised shape."""
        with self._measure("list_functions", event=event_id) as call:
            states = check_states(state)
            user = self.user_id if user_id is None else check_user_id(user_id)
            base = yield from self._locate(call, "faasUI", None)
            request = self._list_request(call, base, states, event_id, name, user)
            _, raw = yield from self._send(call, "faasUI", request, timeout, READ_TIMEOUT)
            return self._functions(call, raw)

    def _post(
        self, call: Call, inv: _Invoking, timeout: Timeout | None
    ) -> Steps[tuple[int, bytes]]:
        base = yield from self._locate(call, "faasGW", inv.request_id)
        request = self._invocation_request(call, base, inv)
        return (yield from self._send(call, "faasGW", request, timeout, INVOKE_READ_TIMEOUT))

    def _invocation(self, call: Call, status: int, raw: bytes) -> Invocation:
        result, logs = split_logs(parse(raw))
        assert call.request_id is not None and call.domain is not None
        return Invocation(
            result=result,
            status=status,
            duration_ms=call.elapsed_ms(),
            request_id=call.request_id,
            domain=call.domain,
            logs=logs,
            content_type=call.content_type,
        )

    def _event_results(self, call: Call, raw: bytes) -> list[EventResult]:
        data = parse(raw)
        if data is None:
            return []
        if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
            raise _bad_response("an invocation by event", "a list of results", call)
        return [EventResult(i.get("uuid"), i.get("timestamp"), i.get("result")) for i in data]

    def _implemented_key(self, event_id: object, skill_id: object) -> tuple[str, str | None]:
        return check_event(event_id), check_skill(skill_id)

    def _cached_implemented(self, call: Call, key: tuple[str, str | None]) -> bool | None:
        with self._implemented_lock:
            cached = self._implemented.get(key)
        call.from_cache = cached is not None
        return cached

    def _implemented_request(
        self, call: Call, base: str, key: tuple[str, str | None]
    ) -> PreparedRequest:
        assert call.platform is not None
        return prepare_gateway(
            "GET",
            base,
            self.account_id,
            ("events", key[0], "isImplemented"),
            platform=call.platform,
            event_source=self.event_source,
            skill_id=key[1],
            user_id=self.user_id,
            request_id=call.request_id,
            user_agent=self.user_agent,
        )

    def _implemented_answer(self, call: Call, key: tuple[str, str | None], raw: bytes) -> bool:
        data = parse(raw)
        if not isinstance(data, dict) or not isinstance(data.get("implemented"), bool):
            raise _bad_response("isImplemented", '{"implemented": true|false}', call)
        with self._implemented_lock:
            self._implemented[key] = data["implemented"]
        return bool(data["implemented"])

    def _list_request(
        self,
        call: Call,
        base: str,
        states: list[str],
        event_id: str | None,
        name: str | None,
        user_id: str | None,
    ) -> PreparedRequest:
        v1 = call.platform == "v1"
        params = [("v", "1")] if v1 else []
        if user_id is not None:
            params.append(("userId", user_id))
        params += [("state", s) for s in states]
        if event_id is not None:
            params.append(("eventId", str(event_id)))
        if name is not None:
            params.append(("name" if v1 else "functionName", str(name)))
        return prepare(
            "GET",
            base,
            self.account_id,
            ("lambdas",) if v1 else ("functions",),
            params=params,
            request_id=call.request_id,
            user_agent=self.user_agent,
        )

    def _functions(self, call: Call, raw: bytes) -> list[FunctionInfo]:
        data = parse(raw)
        if not isinstance(data, list):
            raise _bad_response("the function list", "a list of functions", call)
        assert call.platform is not None
        return [normalise(item, call.platform) for item in data if isinstance(item, dict)]

    def prepare_invoke(
        self,
        target: str,
        payload: Any = None,
        *,
        event: bool = False,
        headers: Headers | None = None,
        skill_id: str | int | None = None,
        event_source: str | None = None,
        request_id: str | None = None,
    ) -> PreparedRequest:
        """Return the `PreparedRequest` an invocation would send (no token), without sending it.

        It may ask CSDS for the gateway's host (once in 10 minutes), with blocking I/O.
        """
        call = Call()
        inv = self._invoking(target, event, payload, headers, skill_id, event_source, request_id)
        steps = self._locate(call, "faasGW", inv.request_id)
        base = Blocking(None, resolver=self.resolver).run(steps)
        return self._invocation_request(call, base, inv)


def blocking(
    call: Callable[Concatenate[ClientCore, P], Steps[R]],
) -> Callable[Concatenate["FunctionsClient", P], R]:
    """Make a call of the core a method of FunctionsClient: its steps run with blocking I/O."""

    def method(self: "FunctionsClient", /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._io.run(call(self, *args, **kwargs))

    return public(method, call, returns=result_type(call))


def public(method: T, call: Callable[..., Any], returns: Any) -> T:
    """Give a client's method the name, docstring and signature of the core's call."""
    signature = inspect.signature(call)
    functools.update_wrapper(cast(Callable[..., Any], method), call)
    name = call.__name__.lstrip("_")
    vars(method).pop("__wrapped__", None)
    cast(Any, method).__name__ = name
    cast(Any, method).__qualname__ = name
    cast(Any, method).__signature__ = signature.replace(return_annotation=returns)
    return method


def result_type(call: Callable[..., Any]) -> Any:
    """The `R` of a call's `Steps[R]` annotation: what the client's method returns."""
    return typing.get_args(inspect.signature(call).return_annotation)[-1]


class FunctionsClient(ClientCore):
    """Call LivePerson Functions for one account; thread-safe, one pooled session per client."""

    def __init__(
        self,
        account_id: str,
        auth: Auth,
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
        session: requests.Session | None = None,
        user_agent: str = USER_AGENT,
        metrics: Metrics | None = None,
        _clock: Callable[[], float] = time.monotonic,
        _implemented_ttl: float = IMPLEMENTED_TTL,
    ) -> None:
        """Build a client for `account_id` that authenticates with `auth` and finds hosts with
        `resolver`.

        account_id: the LivePerson account (site) id, e.g. "12345678".
        auth: `UserBearer(get_token, refresh=None)` for a signed-in user, or
            `ClientCredentials(client_id, client_secret, resolver, account_id)` for an app.
        resolver: a `Resolver(account_id, csds_url, …)` that finds the account's hosts.
        user_id: the id of the user whose token `auth` sends; every call then carries it as
            `userId`, as LivePerson documents. Leave it unset for an app token.
        platform: "v1" or "v2"; unset, told from the gateway's host name.
        event_source: the event source (external system) invocations name; default "Unknown".
        timeout: seconds to wait for an answer, or a `(connect, read)` pair; every call also
            takes its own. Unset: 5 s to connect, 35 s for an invocation, 10 s for other calls.
        retries: a `Retries(total, backoff, jitter, statuses)`, or a number of retries (0:
            none). By default a GET is retried twice on 429/500/502/503/504, and any call
            once when no connection could be opened. A POST that was sent is never resent.
        verify: False, True, or the path of a CA bundle; wins over REQUESTS_CA_BUNDLE.
        proxies: `{"https": "http://proxy:3128", …}`, as requests takes them.
        trust_env: honour HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE and SSL_CERT_FILE (as
            requests does; never ~/.netrc). The three above apply to the client's own
            session; with `session=` yours is used as it is, and left open on close().
        session: a requests.Session to send with (left open by close()); by default the
            client makes its own pool of 32 connections.
        user_agent: the User-Agent header; an app may append its own name to USER_AGENT.
        metrics: a callable receiving a `CallMetric` after every call (for logs and counters).
        _clock, _implemented_ttl: for tests only (the isImplemented cache's clock and lifetime).
        """
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
        self._owns_session = session is None
        self.session = session or make_session(trust_env=trust_env, verify=verify, proxies=proxies)
        self._io = Blocking(self.session, auth, resolver)

    def close(self) -> None:
        """Close the client's own connection pool (a session passed in is left open)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> "FunctionsClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    invoke = blocking(ClientCore._invoke)
    invoke_event = blocking(ClientCore._invoke_event)
    is_implemented = blocking(ClientCore._is_implemented)
    list_functions = blocking(ClientCore._list_functions)


def _bad_response(what: str, expected: str, call: Call) -> FaaSError:
    return FaaSError(
        f"The answer to {what} from {call.domain} was not {expected}.",
        kind="bad-response",
        status=call.status,
        request_id=call.request_id,
    )
