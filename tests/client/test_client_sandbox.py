"""FunctionsClient against the real sandbox in both dialects: wire, results, errors and caches."""

import asyncio
import inspect
import re
import threading
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from liveperson_functions.aio import AsyncFunctionsClient
from liveperson_functions.auth import ClientCredentials
from liveperson_functions.auth import UserBearer
from liveperson_functions.client import FunctionsClient
from liveperson_functions.discovery import Resolver
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError
from sandbox import ACCOUNT_ID
from sandbox import functions as fn
from tests.support import calls
from tests.support import run_async
from tests.support import sandbox_log
from tests.support import start_sandbox

ACCOUNT = ACCOUNT_ID
MISSING = "00000000-0000-4000-8000-000000000000"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# (sandbox dialect, client platform): V1 found from the host name or named, V2 always named,
# because the sandbox cannot advertise a V2 host name (see sandbox).
PLATFORMS = [
    pytest.param(("v1", None), id="v1-detected"),
    pytest.param(("v1", "v1"), id="v1"),
    pytest.param(("v2", "v2"), id="v2"),
]
# Every test runs with both clients: they share one core, and must behave the same.
CLIENTS = ["sync", "async"]


class Blocking:
    """An AsyncFunctionsClient whose coroutine methods are run to completion on a loop of its
    own (in a thread), so the same tests drive both clients; threads calling it at once make
    concurrent tasks on that one loop."""

    def __init__(self, client):
        self.client = client
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def __getattr__(self, name):
        found = getattr(self.client, name)
        if not callable(found):
            return found

        def call(*args, **kwargs):
            result = found(*args, **kwargs)
            if inspect.iscoroutine(result):
                return asyncio.run_coroutine_threadsafe(result, self.loop).result()
            return result

        return call

    def close(self):
        asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class LivePerson:
    """A served sandbox, with builders for clients that authenticate as an app or a user."""

    def __init__(self, served, platform, kind="sync"):
        self.served = served
        self.platform = platform
        self.kind = kind
        self.url = served.url
        self.box = served.app.extensions["sandbox"]
        self.dialect = self.box.settings.dialect
        self.resolver = Resolver(ACCOUNT, self.url, insecure_http=True)
        self._closing = [self.resolver.http]

    def v(self, v1, v2):
        """Pick the value the sandbox's dialect uses."""
        return v1 if self.dialect == "v1" else v2

    def app_auth(self):
        auth = ClientCredentials("sandbox-m2m", "sandbox-m2m-secret", self.resolver, ACCOUNT)
        self._closing.append(auth)
        return auth

    def bearer(self, user="agent"):
        """A user bearer from agentVep's login, as the official clients' tests sign in."""
        with requests.Session() as http:
            http.trust_env = False
            answer = http.post(
                f"{self.url}/api/account/{ACCOUNT}/login",
                params={"v": "1.3"},
                json={"username": user, "password": user},
            )
        assert answer.status_code == 200, answer.text
        return answer.json()["bearer"]

    def client(self, auth=None, **kwargs):
        """A client for the sandbox account; an app (client credentials) unless `auth` says."""
        make = FunctionsClient if self.kind == "sync" else AsyncFunctionsClient
        client = make(
            ACCOUNT,
            auth or self.app_auth(),
            self.resolver,
            platform=self.platform,
            **kwargs,
        )
        if self.kind == "async":
            client = Blocking(client)
        self._closing.append(client)
        return client

    def user_client(self, user="agent"):
        bearer = self.bearer(user)
        return self.client(UserBearer(lambda: bearer))

    def log(self, endpoint):
        return sandbox_log(self.served, endpoint)

    def calls(self, endpoint):
        return calls(self.served, endpoint)

    def close(self):
        for item in self._closing:
            item.close()


@pytest.fixture
def settings():
    """Sandbox settings; a test changes them with @pytest.mark.parametrize("settings", …)."""
    return {}


@pytest.fixture(scope="module")
def shared():
    """One sandbox per dialect for the tests that need no special settings (each start costs
    an RSA key); a rate limit no burst of tests reaches, so calls of one test never 429 another."""
    served = {}
    yield served
    for sandbox in served.values():
        sandbox.stop()


@pytest.fixture(params=CLIENTS)
def kind(request):
    return request.param


@pytest.fixture(params=PLATFORMS)
def lp(request, settings, shared, kind):
    dialect, platform = request.param
    if settings:
        served = start_sandbox([], dialect=dialect, **settings)
    else:
        if dialect not in shared:
            shared[dialect] = start_sandbox([], dialect=dialect, rate_limit=100_000)
        served = shared[dialect]
        # Each test reads only its own calls.
        state = served.app.extensions["sandbox"].state
        with state.lock:
            state.calls.clear()
            state.log.clear()
    sandbox = LivePerson(served, platform, kind)
    yield sandbox
    sandbox.close()
    if settings:
        served.stop()


def test_invoke_sends_the_dialects_wire_format_and_returns_result_and_logs(lp):
    client = lp.client()
    outcome = client.invoke(
        fn.GREETING,
        {"name": "Ada"},
        headers={"X-Trace": "t-1", "Accept-Language": "de"},
        skill_id="1001",
        event_source="tests",
    )

    assert outcome.result == {"greeting": "Hello, Ada!"}
    assert outcome.status == 200
    assert [(e["level"], e["message"]) for e in outcome.logs] == [("Info", "Greeting Ada")]
    assert outcome.domain == lp.url.removeprefix("http://")
    [seen] = lp.log("invoke")
    assert seen["path"] == f"/api/account/{ACCOUNT}/lambdas/{fn.GREETING}/invoke"
    assert seen["principal"] == "app:sandbox-m2m"
    assert seen["headers"]["X-Request-ID"] == outcome.request_id
    assert seen["headers"]["User-Agent"].startswith("liveperson-functions/")
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Authorization"] == "Bearer"
    body = seen["body"]
    assert set(body) == {"timestamp", "headers", "payload"}
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 1_600_000_000_000
    assert body["headers"] == [
        {"key": "X-Trace", "value": "t-1"},
        {"key": "Accept-Language", "value": "de"},
    ]
    assert body["payload"] == {"name": "Ada"}
    if lp.dialect == "v1":
        assert seen["query"] == {"v": ["1"], "externalSystem": ["tests"], "skillId": ["1001"]}
        assert "LP-EventSource" not in seen["headers"]
    else:
        assert seen["query"] == {"skillId": ["1001"]}
        assert seen["headers"]["LP-EventSource"] == "tests"


def test_invoke_without_logs_returns_the_bare_result_and_the_callers_request_id(lp):
    client = lp.client(event_source="my-system")
    payload = {"message": "ping", "nested": [1, {"a": None}], "text": "Grüße"}

    outcome = client.invoke(fn.ECHO, payload, request_id="req-echo-1")

    assert outcome.result == payload and outcome.logs == []
    assert outcome.request_id == "req-echo-1"
    [seen] = lp.log("invoke")
    assert seen["headers"]["X-Request-ID"] == "req-echo-1"
    assert seen["body"]["headers"] == []
    # The client-wide event source applies when a call names none.
    if lp.dialect == "v1":
        assert seen["query"] == {"v": ["1"], "externalSystem": ["my-system"]}
    else:
        assert seen["query"] == {}
        assert seen["headers"]["LP-EventSource"] == "my-system"


def test_a_string_result_and_a_missing_payload(lp):
    client = lp.client()
    assert client.invoke(fn.ECHO, "Success").result == "Success"
    # No payload is sent as {} (the Java client's rule); the gateway refuses a null payload.
    assert client.invoke(fn.ECHO, None).result == {}
    assert [entry["body"]["payload"] for entry in lp.log("invoke")] == ["Success", {}]


def test_invoke_event_runs_every_function_on_the_event(lp):
    payload = {"command": "/summary", "messages": [{"from": "consumer", "text": "Hi"}]}

    answers = lp.client().invoke_event(fn.COMMAND_EVENT, payload, event_source="tests")

    by_uuid = {answer.uuid: answer for answer in answers}
    assert set(by_uuid) == {fn.SUMMARISER, fn.BILLING_COMMAND}
    assert by_uuid[fn.SUMMARISER].result["messageCount"] == 1
    assert "balance" in by_uuid[fn.BILLING_COMMAND].result["reply"]
    assert all(ISO_MS.match(answer.timestamp) for answer in answers)
    [seen] = lp.log("invoke_event")
    assert seen["path"] == f"/api/account/{ACCOUNT}/events/{fn.COMMAND_EVENT}/invoke"
    assert seen["body"]["payload"] == payload
    assert seen["query"] == lp.v({"v": ["1"], "externalSystem": ["tests"]}, {})


def test_invoke_event_for_a_skill_runs_only_the_functions_serving_it(lp):
    client = lp.client()

    billing = client.invoke_event(fn.COMMAND_EVENT, {"command": "/balance"}, skill_id="1001")
    other = client.invoke_event(fn.COMMAND_EVENT, {"command": "/balance"}, skill_id="2002")

    assert {answer.uuid for answer in billing} == {fn.SUMMARISER, fn.BILLING_COMMAND}
    assert [answer.uuid for answer in other] == [fn.SUMMARISER]
    assert [entry["query"]["skillId"] for entry in lp.log("invoke_event")] == [["1001"], ["2002"]]


def test_invoke_event_answers_an_empty_list_when_nothing_implements_the_event(lp):
    client = lp.client()
    assert client.invoke_event("conversational_commands", {"command": "/x"}) == []
    # Only a Draft implements this one, and drafts do not run.
    assert client.invoke_event("controllerbot_messaging_conversation_end", {}) == []
    assert [entry["status"] for entry in lp.log("invoke_event")] == [200, 200]


def test_is_implemented_asks_the_gateway_once_per_event_and_skill_within_a_minute(lp):
    client = lp.client()

    assert client.is_implemented(fn.COMMAND_EVENT) is True
    assert client.is_implemented("controllerbot_messaging_conversation_end") is False
    assert client.is_implemented(fn.COMMAND_EVENT, skill_id="1001") is True
    assert lp.calls("is_implemented") == 3
    # Answers, false ones included, come from the 60 s cache now.
    assert client.is_implemented(fn.COMMAND_EVENT) is True
    assert client.is_implemented("controllerbot_messaging_conversation_end") is False
    assert client.is_implemented(fn.COMMAND_EVENT, skill_id="1001") is True
    assert lp.calls("is_implemented") == 3

    first, _, with_skill = lp.log("is_implemented")
    assert first["path"] == f"/api/account/{ACCOUNT}/events/{fn.COMMAND_EVENT}/isImplemented"
    assert first["method"] == "GET" and first["body"] is None
    assert first["query"] == lp.v({"v": ["1"], "externalSystem": ["Unknown"]}, {})
    assert with_skill["query"]["skillId"] == ["1001"]


def test_is_implemented_cache_expires_after_its_ttl(lp):
    now = [0.0]
    client = lp.client(_clock=lambda: now[0])
    client.is_implemented(fn.COMMAND_EVENT)
    now[0] = 59.0
    client.is_implemented(fn.COMMAND_EVENT)
    assert lp.calls("is_implemented") == 1
    now[0] = 61.0
    client.is_implemented(fn.COMMAND_EVENT)
    assert lp.calls("is_implemented") == 2


def test_list_functions_lists_the_account_in_one_shape(lp):
    functions = lp.user_client().list_functions()

    assert {f["uuid"] for f in functions} == {f.uuid for f in fn.DEMO}
    assert all(f["platform"] == lp.dialect for f in functions)
    billing = next(f for f in functions if f["uuid"] == fn.BILLING_COMMAND)
    assert billing["name"] == "Billing commands"
    assert billing["state"] == "Modified"
    assert billing["eventId"] == fn.COMMAND_EVENT
    assert billing["skills"] == list(fn.BILLING_SKILLS)
    assert billing["updatedBy"] == fn.AGENT_ID
    # V2 lists no sample payloads (reference §3.6).
    assert (billing["samplePayload"] is not None) == (lp.dialect == "v1")
    [seen] = lp.log("list_functions")
    assert seen["path"] == f"/api/account/{ACCOUNT}/" + lp.v("lambdas", "functions")
    assert seen["principal"] == "user:agent"
    assert seen["query"] == lp.v({"v": ["1"]}, {})


def test_list_functions_filters_by_state_event_and_name(lp):
    client = lp.user_client()

    drafts = client.list_functions(state="Draft")
    deployed = client.list_functions(state=["Productive", "Modified"])
    on_event = client.list_functions(event_id=fn.COMMAND_EVENT, state="Productive")
    named = client.list_functions(name="SUMMAR")

    assert [f["uuid"] for f in drafts] == [fn.DRAFT]
    assert {f["uuid"] for f in deployed} == {f.uuid for f in fn.DEMO} - {fn.DRAFT}
    assert [f["uuid"] for f in on_event] == [fn.SUMMARISER]
    assert [f["uuid"] for f in named] == [fn.SUMMARISER]
    queries = [entry["query"] for entry in lp.log("list_functions")]
    version = lp.v({"v": ["1"]}, {})
    assert queries == [
        {**version, "state": ["Draft"]},
        {**version, "state": ["Productive", "Modified"]},
        {**version, "state": ["Productive"], "eventId": [fn.COMMAND_EVENT]},
        {**version, lp.v("name", "functionName"): ["SUMMAR"]},
    ]


def test_an_unknown_state_is_a_detailed_400_and_is_not_retried(lp):
    with pytest.raises(FaaSDetailedError) as caught:
        lp.user_client().list_functions(state="active")

    error = caught.value
    assert type(error) is FaaSDetailedError
    assert error.status == 400
    assert error.code == lp.v("com.liveperson.faas.es.badinput", "com.liveperson.faas.evg.invalid")
    assert "active" in error.message
    assert error.explanation and error.advice
    assert lp.calls("list_functions") == 1


def test_an_app_token_cannot_list_functions(lp):
    with pytest.raises(FaaSDetailedError) as caught:
        lp.client().list_functions()

    assert caught.value.status == 403
    assert "signed-in user" in caught.value.explanation
    assert caught.value.advice
    [seen] = lp.log("list_functions")
    assert seen["principal"] == "app:sandbox-m2m" and seen["status"] == 403


FAILURES = [
    pytest.param(
        fn.FAILING,
        {},
        901,
        "com.liveperson.faas.handler.custom-failure",
        "com.customer.faas.function.threw-error",
        "Order 42 could not be found",
        "error",
        id="custom-failure",
    ),
    pytest.param(
        fn.CRASHING,
        {},
        901,
        "com.liveperson.faas.handler.runtime-exception",
        "com.customer.faas.function.js-runtime-error",
        "TypeError",
        "crashed",
        id="runtime-exception",
    ),
    pytest.param(
        fn.SLOW,
        {"execution_limit": 0.3},
        901,
        "com.liveperson.faas.handler.executiontime-exceeded",
        "com.customer.faas.function.execution-exceeded",
        "execution time limit",
        "execution-time limit",
        id="executiontime-exceeded",
    ),
    pytest.param(
        MISSING,
        {},
        404,
        "com.liveperson.faas.es.missinglambda",
        "com.liveperson.faas.function.not-found",
        f"There is no {MISSING} deployed on {ACCOUNT}",
        "UUID",
        id="missing",
    ),
    pytest.param(
        fn.DRAFT,
        {},
        404,
        "com.liveperson.faas.es.notdeployed",
        "com.liveperson.faas.function.not-found",
        "is not deployed",
        "deployed",
        id="not-deployed",
    ),
]


@pytest.mark.parametrize(
    ("uuid", "settings", "status", "v1_code", "v2_code", "message", "explained"), FAILURES
)
def test_every_gateway_error_becomes_the_right_exception(
    lp, uuid, status, v1_code, v2_code, message, explained
):
    with pytest.raises(FaaSError) as caught:
        lp.client().invoke(uuid, {"orderId": "42"})

    error = caught.value
    # 901 means the function ran and failed; a 404 is the platform refusing the call.
    assert type(error) is (FaaSLambdaError if status == 901 else FaaSDetailedError)
    assert error.status == status
    assert error.code == lp.v(v1_code, v2_code)
    assert message in error.message
    assert str(error).startswith(f"HTTP {status} {error.code}")
    assert explained in error.explanation
    assert error.advice
    [seen] = lp.log("invoke")
    assert seen["status"] == status
    assert error.request_id == seen["headers"]["X-Request-ID"]


def test_a_v1_function_failure_carries_the_logs_the_function_wrote(lp):
    with pytest.raises(FaaSLambdaError) as caught:
        lp.client().invoke(fn.FAILING, {"orderId": "7"})

    logs = [(entry["level"], entry["message"]) for entry in caught.value.error_logs]
    # Only V1 error bodies carry errorLogs (reference §5.2).
    assert logs == lp.v([("Warn", "Order 7 is not in the order system")], [])
    assert "logs" in caught.value.advice


@pytest.mark.parametrize("settings", [pytest.param({"rate_limit": 2}, id="rate-2")])
def test_a_rate_limited_invocation_is_not_resent_and_reports_retry_after(lp):
    # Stop the sandbox's clock so that every call falls in one rate-limit window.
    lp.box.limiter.clock = lambda: 1000.0
    client = lp.client()
    client.invoke(fn.ECHO, {"n": 1})
    client.invoke(fn.ECHO, {"n": 2})

    with pytest.raises(FaaSDetailedError) as caught:
        client.invoke(fn.ECHO, {"n": 3})

    error = caught.value
    assert type(error) is FaaSDetailedError
    assert error.status == 429 and error.code is None
    assert error.retry_after == 1
    assert "rate limit" in error.explanation and "Retry-After" in error.advice
    assert lp.calls("invoke") == 3
    assert [entry["status"] for entry in lp.log("invoke")] == [200, 200, 429]


@pytest.mark.parametrize("settings", [pytest.param({"flaky_share": 1.0}, id="always-502")])
def test_a_bad_gateway_answer_to_an_invocation_is_not_resent(lp):
    with pytest.raises(FaaSDetailedError) as caught:
        lp.client().invoke(fn.FLAKY, {"city": "Oslo"})

    error = caught.value
    assert type(error) is FaaSDetailedError
    assert error.status == 502
    assert error.code == lp.v("com.liveperson.faas.es.general", "com.liveperson.faas.evg.general")
    assert "Try again" in error.advice
    assert lp.calls("invoke") == 1


@pytest.mark.parametrize("settings", [pytest.param({"flaky_share": 0.0}, id="never-502")])
def test_the_flaky_function_answers_when_its_upstream_is_up(lp):
    assert lp.client().invoke(fn.FLAKY, {"city": "Oslo"}).result == {
        "city": "Oslo",
        "weather": "sunny",
    }


def test_a_401_is_answered_by_one_refresh_and_one_replay(lp):
    tokens = ["not-a-bearer-the-sandbox-issued", lp.bearer("agent")]
    refreshes = []

    def refresh():
        refreshes.append(tokens.pop(0))

    client = lp.client(UserBearer(lambda: tokens[0], refresh=refresh))

    outcome = client.invoke(fn.ECHO, {"after": "refresh"})

    assert outcome.result == {"after": "refresh"}
    assert refreshes == ["not-a-bearer-the-sandbox-issued"]
    first, replay = lp.log("invoke")
    assert (first["status"], first["principal"]) == (401, None)
    assert (replay["status"], replay["principal"]) == (200, "user:agent")
    assert replay["body"]["payload"] == first["body"]["payload"]


def test_a_401_that_survives_the_refresh_is_reported_without_a_second_replay(lp):
    refreshes = []
    client = lp.client(UserBearer(lambda: "still-not-valid", refresh=lambda: refreshes.append(1)))

    with pytest.raises(FaaSDetailedError) as caught:
        client.invoke(fn.ECHO, {})

    assert caught.value.status == 401
    assert "credentials" in caught.value.explanation and "Sign in" in caught.value.advice
    assert refreshes == [1]
    assert lp.calls("invoke") == 2


def test_a_403_from_faasui_is_answered_by_one_refresh_and_one_retry_of_the_read(lp):
    # faasUI refuses a dead bearer with 403, as it refuses a missing permission.
    tokens = ["expired-or-revoked-bearer", lp.bearer("agent")]
    refreshes = []
    client = lp.client(
        UserBearer(lambda: tokens[0], refresh=lambda: refreshes.append(tokens.pop(0)))
    )

    listed = client.list_functions()

    assert fn.GREETING in {item["uuid"] for item in listed}
    assert refreshes == ["expired-or-revoked-bearer"]
    first, retry = lp.log("list_functions")
    assert (first["status"], retry["status"]) == (403, 200)


def test_a_403_from_faasui_that_survives_a_fresh_token_is_a_permission(lp):
    tokens = ["expired-bearer", lp.bearer("viewer")]
    client = lp.client(UserBearer(lambda: tokens[0], refresh=lambda: tokens.pop(0)))

    with pytest.raises(FaaSDetailedError) as caught:
        client.list_functions()

    assert caught.value.status == 403 and "FaaS-Admin" in caught.value.explanation
    assert lp.calls("list_functions") == 2


def test_an_app_tokens_403_from_faasui_fetches_no_new_token(lp):
    # Lists need a user: an app token's 403 is by design, and a new app token would not help.
    with pytest.raises(FaaSDetailedError) as caught:
        lp.client().list_functions()

    assert caught.value.status == 403
    assert (lp.calls("list_functions"), lp.calls("app_token")) == (1, 1)


def test_a_user_without_the_invocation_permission_gets_a_403(lp):
    with pytest.raises(FaaSDetailedError) as caught:
        lp.user_client("viewer").invoke(fn.ECHO, {})

    error = caught.value
    assert type(error) is FaaSDetailedError
    assert error.status == 403
    assert "viewer" in error.message
    assert "FaaS-Invocation" in error.explanation and "FaaS-Invocation" in error.advice
    assert lp.calls("invoke") == 1


def test_a_signed_in_user_may_invoke_with_their_bearer(lp):
    assert lp.user_client("admin").invoke(fn.ECHO, {"who": "admin"}).result == {"who": "admin"}
    [seen] = lp.log("invoke")
    assert seen["principal"] == "user:admin"


def test_concurrent_callers_share_one_app_token(lp):
    client = lp.client()
    callers = 20
    barrier = threading.Barrier(callers)
    results, errors = [None] * callers, []

    def call(index):
        barrier.wait()
        try:
            results[index] = client.invoke(fn.ECHO, {"caller": index}).result
        except Exception as exc:  # collected: an exception in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [{"caller": i} for i in range(callers)]
    assert lp.calls("app_token") == 1
    assert lp.calls("invoke") == callers
    assert {entry["principal"] for entry in lp.log("invoke")} == {"app:sandbox-m2m"}


def test_the_service_hosts_are_looked_up_once_for_many_calls(lp):
    csds = []
    get = lp.resolver.http.get

    def counting_get(url, *args, **kwargs):
        csds.append(url)
        return get(url, *args, **kwargs)

    lp.resolver.http.get = counting_get
    client = lp.client()
    for n in range(3):
        client.invoke(fn.ECHO, {"n": n})
    client.invoke_event(fn.COMMAND_EVENT, {})
    client.is_implemented(fn.COMMAND_EVENT)
    lp.user_client().list_functions(state="Draft")

    assert csds == [f"{lp.url}/api/account/{ACCOUNT}/service/baseURI.json"]
    assert lp.calls("app_token") == 1


@pytest.mark.parametrize("event", [False, True], ids=["by-uuid", "by-event"])
def test_prepare_invoke_is_what_reaches_the_gateway(lp, event):
    client = lp.client(event_source="tests")
    target = fn.COMMAND_EVENT if event else fn.GREETING
    sent = {"headers": {"X-Trace": "t-1"}, "skill_id": "1001", "request_id": "req-prepared"}
    prepared = client.prepare_invoke(target, {"name": "Ada"}, event=event, **sent)

    (client.invoke_event if event else client.invoke)(target, {"name": "Ada"}, **sent)

    [seen] = lp.log("invoke_event" if event else "invoke")
    assert (prepared.method, prepared.url) == ("POST", f"{lp.url}{seen['path']}")
    assert parse_qs(urlsplit(prepared.full_url).query) == seen["query"]
    recorded = {name: prepared.headers.get(name) for name in seen["headers"]}
    assert recorded == {**seen["headers"], "Authorization": None}
    assert set(seen["headers"]) - {"Authorization"} <= set(prepared.headers)
    # Only the timestamp differs: each call stamps its own.
    assert {**prepared.json, "timestamp": 0} == {**seen["body"], "timestamp": 0}


@pytest.mark.parametrize("kind", ["async"], indirect=True)
def test_64_concurrent_async_invocations_share_one_client_and_one_app_token(lp):
    async def run():
        auth = lp.app_auth()
        async with AsyncFunctionsClient(ACCOUNT, auth, lp.resolver, platform=lp.platform) as c:
            return await asyncio.gather(*(c.invoke(fn.ECHO, {"caller": i}) for i in range(64)))

    answers = run_async(run())

    assert [answer.result for answer in answers] == [{"caller": i} for i in range(64)]
    assert len({answer.request_id for answer in answers}) == 64
    assert lp.calls("app_token") == 1
    assert lp.calls("invoke") == 64


@pytest.mark.parametrize("kind", ["async"], indirect=True)
def test_the_async_client_awaits_coroutine_token_callables(lp):
    tokens = ["not-a-bearer-the-sandbox-issued", lp.bearer("agent")]

    async def get_token():
        return tokens[0]

    async def refresh():
        tokens.pop(0)

    async def run():
        auth = UserBearer(get_token, refresh=refresh)
        async with AsyncFunctionsClient(ACCOUNT, auth, lp.resolver, platform=lp.platform) as c:
            return await c.invoke(fn.ECHO, {"n": 1})

    assert run_async(run()).result == {"n": 1}
    first, replay = lp.log("invoke")
    assert (first["status"], replay["status"]) == (401, 200)
