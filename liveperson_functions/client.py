"""FunctionsClient: invoke LivePerson Functions, query events and list functions over HTTP."""

import threading
import time
import uuid as uuidlib

from cachetools import TTLCache

from .discovery import DiscoveryError
from .errors import FaaSError
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
from .results import measure
from .transport import CONNECT_TIMEOUT
from .transport import INVOKE_READ_TIMEOUT
from .transport import READ_TIMEOUT
from .transport import make_session
from .transport import send
from .wire import DEFAULT_EVENT_SOURCE
from .wire import USER_AGENT
from .wire import invocation_body
from .wire import invoked
from .wire import normalise
from .wire import parse
from .wire import platform_for
from .wire import prepare
from .wire import prepare_gateway
from .wire import split_logs

IMPLEMENTED_TTL = 60  # the official clients cache isImplemented answers for 60 s
# Event ids can come from users; keep the cache from growing without bound.
IMPLEMENTED_CACHE_MAX = 1024


class FunctionsClient:
    """Call LivePerson Functions for one account; thread-safe, one pooled session per client.

    `user_id` is the id of the user whose token `auth` sends: LivePerson documents the
    user-token invocation as `…/invoke?v=1&userId={userId}`, and its CLI and Java client send
    `userId` to faasUI, so every call then carries it. Leave it unset for an app token.

    `timeout` is seconds to wait for an answer, or a `(connect, read)` pair; every call also
    takes its own `timeout`. Unset, a call waits 5 s to connect and 35 s (invocations) or
    10 s (other calls) for the answer.
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
        timeout=None,
    ):
        self.account_id = check_account(account_id)
        self.platform = check_platform(platform)
        self.auth = auth
        self.user_id = check_user_id(user_id)
        self.resolver = resolver
        self.event_source = check_event_source(event_source or DEFAULT_EVENT_SOURCE)
        self.timeout = check_timeout(timeout)
        self.metrics = metrics
        self.user_agent = user_agent
        self._owns_session = session is None
        self.session = session or make_session()
        self._implemented = TTLCache(IMPLEMENTED_CACHE_MAX, implemented_ttl, timer=clock)
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
        with measure(self.metrics, self.account_id, "invoke", uuid=str(uuid)) as call:
            sent = (payload, headers, skill_id, event_source, request_id, timeout)
            status, raw = self._post_invocation(call, invoked(uuid, event=False), *sent)
            result, logs = split_logs(parse(raw))
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
        with measure(self.metrics, self.account_id, "invoke_event", event=str(event_id)) as call:
            sent = (payload, headers, skill_id, event_source, request_id, timeout)
            _, raw = self._post_invocation(call, invoked(event_id, event=True), *sent)
            data = parse(raw)
            if data is None:
                return []
            if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
                raise _bad_response("an invocation by event", "a list of results", call)
            return [EventResult(i.get("uuid"), i.get("timestamp"), i.get("result")) for i in data]

    def prepare_invoke(
        self,
        target,
        payload=None,
        *,
        event=False,
        headers=None,
        skill_id=None,
        event_source=None,
        request_id=None,
    ):
        """Return the `PreparedRequest` an invocation would send (no token), without sending it."""
        return self._prepare_invoke(
            Call(), invoked(target, event), payload, headers, skill_id, event_source, request_id
        )

    def is_implemented(self, event_id, skill_id=None, timeout=None):
        """Tell whether any function implements an event (for a skill); cached for 60 s."""
        with measure(self.metrics, self.account_id, "is_implemented", event=str(event_id)) as call:
            key = (check_event(event_id), check_skill(skill_id))
            with self._implemented_lock:
                cached = self._implemented.get(key)
            if cached is not None:
                call.from_cache = True
                return cached
            base = self._locate(call, "faasGW", None)
            request = prepare_gateway(
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
            _, raw = self._send(call, "faasGW", request, timeout, READ_TIMEOUT)
            data = parse(raw)
            if not isinstance(data, dict) or not isinstance(data.get("implemented"), bool):
                raise _bad_response("isImplemented", '{"implemented": true|false}', call)
            with self._implemented_lock:
                self._implemented[key] = data["implemented"]
            return data["implemented"]

    def list_functions(self, state=None, event_id=None, name=None, user_id=None, timeout=None):
        """List the account's functions (V1 lambdas or V2 functions) in one normalised shape."""
        with measure(self.metrics, self.account_id, "list_functions", event=event_id) as call:
            states = check_states(state)
            user_id = self.user_id if user_id is None else check_user_id(user_id)
            base = self._locate(call, "faasUI", None)
            v1 = call.platform == "v1"
            params = [("v", "1")] if v1 else []
            if user_id is not None:
                params.append(("userId", user_id))
            params += [("state", s) for s in states]
            if event_id is not None:
                params.append(("eventId", str(event_id)))
            if name is not None:
                params.append(("name" if v1 else "functionName", str(name)))
            request = prepare(
                "GET",
                base,
                self.account_id,
                ("lambdas",) if v1 else ("functions",),
                params=params,
                request_id=call.request_id,
                user_agent=self.user_agent,
            )
            _, raw = self._send(call, "faasUI", request, timeout, READ_TIMEOUT)
            data = parse(raw)
            if not isinstance(data, list):
                raise _bad_response("the function list", "a list of functions", call)
            return [normalise(item, call.platform) for item in data if isinstance(item, dict)]

    def _prepare_invoke(
        self, call, segments, payload, headers, skill_id, event_source, request_id
    ):
        """Check an invocation's inputs, locate the gateway, and return the POST to send."""
        body = invocation_body(payload, headers)
        source = self.event_source if event_source is None else check_event_source(event_source)
        skill = check_skill(skill_id)
        base = self._locate(call, "faasGW", check_request_id(request_id))
        return prepare_gateway(
            "POST",
            base,
            self.account_id,
            (*segments, "invoke"),
            platform=call.platform,
            event_source=source,
            skill_id=skill,
            user_id=self.user_id,
            request_id=call.request_id,
            user_agent=self.user_agent,
            body=body,
        )

    def _post_invocation(
        self, call, segments, payload, headers, skill_id, event_source, request_id, timeout
    ):
        """Send an invocation to the gateway; return `(status, body bytes)`."""
        request = self._prepare_invoke(
            call, segments, payload, headers, skill_id, event_source, request_id
        )
        return self._send(call, "faasGW", request, timeout, INVOKE_READ_TIMEOUT)

    def _locate(self, call, service, request_id):
        """Give the call its request id, domain and platform; return the service's base URL."""
        call.request_id = request_id or str(uuidlib.uuid4())
        try:
            call.domain = self.resolver.domain(service)
            base = self.resolver.base_url(service)
        except DiscoveryError as exc:
            raise FaaSError(str(exc), kind="discovery", request_id=call.request_id) from exc
        call.platform = platform_for(call.domain, self.platform)
        return base

    def _send(self, call, service, request, timeout, read_default):
        """Send with the call's own timeout, else the client's, else the defaults."""
        own = check_timeout(timeout) or (None, None)
        client = self.timeout or (None, None)
        timeouts = own[0] or client[0] or CONNECT_TIMEOUT, own[1] or client[1] or read_default
        return send(self.session, self.auth, request, timeouts, call, service)


def _bad_response(what, expected, call):
    return FaaSError(
        f"The answer to {what} from {call.domain} was not {expected}.",
        kind="bad-response",
        status=call.status,
        request_id=call.request_id,
    )
