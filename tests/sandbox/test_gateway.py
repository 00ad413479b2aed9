"""The sandbox's faasGW over real HTTP: invocations, events, isImplemented, errors, limits."""

import itertools
import re
import uuid as uuidlib

import pytest

from sandbox import functions as fn
from tests.sandbox.support import ACCOUNT
from tests.support import calls
from tests.support import sandbox_log

V1 = pytest.param({"dialect": "v1"}, id="v1")
V2 = pytest.param({"dialect": "v2"}, id="v2")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MISSING = "00000000-0000-4000-8000-000000000000"


def error_body(dialect, v1_code, v2_code, message):
    if dialect == "v1":
        return {"errorCode": v1_code, "errorMsg": message}
    return {"code": v2_code, "message": message}


@pytest.mark.parametrize("sandbox_settings", [V1, V2])
def test_invoke_answers_result_and_the_logs_the_function_wrote(lp, app_token):
    answer = lp.invoke(fn.GREETING, {"name": "Ada"}, app_token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["result"] == {"greeting": "Hello, Ada!"}
    ((entry),) = body["logs"]
    assert entry["level"] == "Info" and entry["message"] == "Greeting Ada"
    assert entry["extras"] == [] and isinstance(entry["timestamp"], int)


@pytest.mark.parametrize("sandbox_settings", [V1, V2])
def test_invoke_answers_the_bare_result_when_there_are_no_logs(lp, app_token):
    payload = {"message": "ping", "nested": [1, {"a": None}]}
    answer = lp.invoke(fn.ECHO, payload, app_token)
    assert answer.status_code == 200 and answer.json() == payload


def test_a_string_result_comes_back_as_a_json_string(lp, app_token):
    answer = lp.invoke(fn.ECHO, "Success", app_token)
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.text.strip() == '"Success"'


def test_uuids_are_matched_in_any_case(lp, app_token):
    assert lp.invoke(fn.ECHO.upper(), {"a": 1}, app_token).json() == {"a": 1}


FAILURES = [
    (
        fn.FAILING,
        901,
        "com.liveperson.faas.handler.custom-failure",
        "com.customer.faas.function.threw-error",
        "Order 42 could not be found",
    ),
    (
        fn.CRASHING,
        901,
        "com.liveperson.faas.handler.runtime-exception",
        "com.customer.faas.function.js-runtime-error",
        "TypeError: 'NoneType' object is not subscriptable",
    ),
    (
        fn.DRAFT,
        404,
        "com.liveperson.faas.es.notdeployed",
        "com.liveperson.faas.function.not-found",
        f"Function {fn.DRAFT} is not deployed on {ACCOUNT}",
    ),
    (
        MISSING,
        404,
        "com.liveperson.faas.es.missinglambda",
        "com.liveperson.faas.function.not-found",
        f"There is no {MISSING} deployed on {ACCOUNT}",
    ),
]


@pytest.mark.parametrize(
    ("sandbox_settings", "uuid", "status", "v1_code", "v2_code", "message"),
    [
        pytest.param({"dialect": dialect}, *failure, id=f"{dialect}-{failure[2].split('.')[-1]}")
        for dialect in ("v1", "v2")
        for failure in FAILURES
    ],
)
def test_failures_answer_the_dialects_status_and_code(
    lp, app_token, sandbox_settings, uuid, status, v1_code, v2_code, message
):
    answer = lp.invoke(uuid, {"orderId": "42", "customer": None}, app_token)
    assert answer.status_code == status
    body = answer.json()
    body.pop("errorLogs", None)
    assert body == error_body(sandbox_settings["dialect"], v1_code, v2_code, message)


def test_v1_failures_carry_the_logs_written_before_failing(lp, app_token):
    body = lp.invoke(fn.FAILING, {"orderId": "7"}, app_token).json()
    assert body["errorMsg"] == "Order 7 could not be found"
    assert [(e["level"], e["message"]) for e in body["errorLogs"]] == [
        ("Warn", "Order 7 is not in the order system")
    ]
    crash = lp.invoke(fn.CRASHING, {}, app_token).json()
    assert [e["message"] for e in crash["errorLogs"]] == ["Looking up the customer"]


@pytest.mark.parametrize("sandbox_settings", [V2])
def test_v2_failures_are_code_and_message_only(lp, app_token):
    body = lp.invoke(fn.FAILING, {"orderId": "7"}, app_token).json()
    assert body == {
        "code": "com.customer.faas.function.threw-error",
        "message": "Order 7 could not be found",
    }


@pytest.mark.parametrize(
    ("sandbox_settings", "code"),
    [
        (
            {"dialect": "v1", "execution_limit": 0.3},
            "com.liveperson.faas.handler.executiontime-exceeded",
        ),
        (
            {"dialect": "v2", "execution_limit": 0.3},
            "com.customer.faas.function.execution-exceeded",
        ),
    ],
)
def test_a_function_past_the_execution_limit_is_stopped(lp, app_token, code):
    answer = lp.invoke(fn.SLOW, {"contactId": "c-1"}, app_token)
    assert answer.status_code == 901
    body = answer.json()
    assert code in (body.get("errorCode"), body.get("code"))
    message = body.get("errorMsg") or body.get("message")
    assert message == "Function did not finish within the execution time limit of 0.3 s"


def test_the_execution_limit_is_30_seconds_by_default():
    from sandbox import Settings

    assert Settings().execution_limit == 30


BAD_BODIES = (
    {"timestamp": 0, "headers": []},
    {"timestamp": 0, "headers": [], "payload": None},
    {"payload": {}, "headers": "X-Not-A-List"},
    ["payload"],
    "not json",
)


@pytest.mark.parametrize(
    ("sandbox_settings", "code"),
    [
        ({"dialect": "v1"}, "com.liveperson.faas.es.badinput"),
        ({"dialect": "v2"}, "com.liveperson.faas.evg.invalid"),
    ],
)
def test_a_body_without_payload_is_bad_input(lp, app_token, code):
    paths = (f"lambdas/{fn.ECHO}/invoke", "events/conversational_command/invoke")
    for path, body in itertools.product(paths, BAD_BODIES):
        kwargs = {"data": body} if isinstance(body, str) else {"json": body}
        answer = lp.call("POST", path, app_token, **kwargs)
        assert answer.status_code == 400
        assert code in (answer.json().get("errorCode"), answer.json().get("code"))


def test_the_function_receives_timestamp_headers_and_payload(lp, app_token):
    seen = {}

    def spy(data, ctx):
        seen.update(data)
        return "ok"

    catalogue = lp.sandbox.catalogue
    spied = fn.Function(str(uuidlib.uuid4()), "Spy", "", "Productive", None, spy)
    catalogue.by_uuid[spied.uuid] = spied
    body = {"timestamp": 1700000000000, "headers": [{"key": "a", "value": "b"}], "payload": [1]}
    assert lp.call("POST", f"lambdas/{spied.uuid}/invoke", app_token, json=body).json() == "ok"
    assert seen == body
    lp.call("POST", f"lambdas/{spied.uuid}/invoke", app_token, json={"payload": 2})
    assert seen["headers"] == [] and seen["payload"] == 2 and seen["timestamp"] > 1700000000000


@pytest.mark.parametrize("sandbox_settings", [V1, V2])
def test_invoke_by_event_runs_every_invocable_function_on_it(lp, app_token):
    payload = {"command": "/summary", "messages": [{"from": "consumer", "text": "Hi"}]}
    answer = lp.invoke_event("conversational_command", payload, app_token)
    assert answer.status_code == 200
    items = answer.json()
    assert [i["uuid"] for i in items] == [fn.SUMMARISER, fn.BILLING_COMMAND]
    assert all(ISO_MS.match(i["timestamp"]) for i in items)
    assert items[0]["result"]["summary"] == '1 messages between consumer. Last: "Hi"'
    assert items[1]["result"]["command"] == "/summary"
    assert set(items[0]) == {"uuid", "timestamp", "result"}


def test_invoke_by_event_filters_by_skill(lp, app_token):
    cases = [
        ("1001", [fn.SUMMARISER, fn.BILLING_COMMAND]),
        ("1002", [fn.SUMMARISER, fn.BILLING_COMMAND]),
        ("9999", [fn.SUMMARISER]),
        ("", [fn.SUMMARISER, fn.BILLING_COMMAND]),  # Node's empty skillId= counts as absent
    ]
    for skill, expected in cases:
        params = {"v": "1", "skillId": skill, "externalSystem": "tests"}
        answer = lp.invoke_event("conversational_command", {}, app_token, params=params)
        assert [i["uuid"] for i in answer.json()] == expected


@pytest.mark.parametrize("sandbox_settings", [V1, V2])
def test_an_event_nothing_invocable_implements_answers_an_empty_list(lp, app_token):
    # A Draft function's event, and the unknown event the Node client's own tests use.
    for event in ("controllerbot_messaging_conversation_end", "conversational_commands"):
        answer = lp.invoke_event(event, {}, app_token)
        assert answer.status_code == 200 and answer.json() == []


def test_one_failing_function_fails_the_invocation_by_event(lp, app_token):
    def broken(data, ctx):
        raise fn.FunctionError("no summary today")

    catalogue = lp.sandbox.catalogue
    failing = fn.Function(str(uuidlib.uuid4()), "Broken", "", "Productive", "ev_x", broken)
    working = fn.Function(str(uuidlib.uuid4()), "Works", "", "Productive", "ev_x", fn.echo)
    lp.sandbox.catalogue = type(catalogue)((*catalogue.functions, working, failing))
    answer = lp.invoke_event("ev_x", {}, app_token)
    assert answer.status_code == 901
    assert answer.json()["errorCode"] == "com.liveperson.faas.handler.custom-failure"


@pytest.mark.parametrize("sandbox_settings", [V1, V2])
def test_is_implemented(lp, app_token):
    cases = [
        ("conversational_command", None, True),
        ("conversational_command", "", True),
        ("conversational_command", "9999", True),
        ("controllerbot_messaging_conversation_end", None, False),
        ("no_such_event", None, False),
    ]
    for event, skill, implemented in cases:
        params = {} if skill is None else {"skillId": skill}
        answer = lp.call("GET", f"events/{event}/isImplemented", app_token, params=params)
        assert answer.status_code == 200 and answer.json() == {"implemented": implemented}


def test_is_implemented_honours_skills(lp, app_token):
    only_billing = fn.Function(
        str(uuidlib.uuid4()), "Billing only", "", "Productive", "ev_b", fn.echo, skills=("1001",)
    )
    catalogue = lp.sandbox.catalogue
    lp.sandbox.catalogue = type(catalogue)((*catalogue.functions, only_billing))
    path = "events/ev_b/isImplemented"
    assert lp.call("GET", path, app_token, params={"skillId": "1001"}).json()["implemented"]
    assert not lp.call("GET", path, app_token, params={"skillId": "2"}).json()["implemented"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"lambdas/{fn.ECHO}/invoke"),
        ("POST", "events/conversational_command/invoke"),
        ("GET", "events/conversational_command/isImplemented"),
    ],
)
def test_a_missing_or_invalid_bearer_is_401(lp, method, path):
    for token in (None, "not-a-token", lp.sandbox.state.sign({"aud": "999", "exp": 2**40})):
        answer = lp.call(method, path, token, json={"payload": {}})
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert "bearer" in answer.json()["message"]
    basic = lp.call(method, path, json={"payload": {}}, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401


def test_an_unknown_account_is_401(lp, app_token):
    answer = lp.call("POST", f"lambdas/{fn.ECHO}/invoke", app_token, account="999", json={})
    assert answer.status_code == 401 and answer.json() == {"message": "Unknown account 999."}


def test_every_kind_of_bearer_for_the_account_may_invoke(lp):
    tokens = [lp.app_token(), lp.bearer("agent"), lp.bearer("admin"), lp.user_token("agent")]
    tokens.append(lp.user_token("developer"))  # FaaS-Developer invokes too
    for token in tokens:
        assert lp.invoke(fn.ECHO, {"x": 1}, token).json() == {"x": 1}


def test_user_access_tokens_are_opaque_and_app_tokens_jwts(lp):
    assert re.fullmatch(r"[0-9a-f]{64}", lp.user_token("agent"))  # as Sentinel documents
    assert lp.app_token().count(".") == 2  # the official clients decode its exp


def test_faas_admin_may_read_but_not_invoke(lp):
    token = lp.user_token("faasadmin")
    path = "events/conversational_command/isImplemented"
    assert lp.call("GET", path, token).json() == {"implemented": True}
    by_event = lp.invoke_event("conversational_command", {}, token)
    for answer in (lp.invoke(fn.ECHO, {}, token), by_event):
        assert answer.status_code == 403
        message = answer.json()["message"]
        assert "faasadmin may not invoke functions" in message
        assert "needs FaaS-Invocation or FaaS-Developer" in message
    assert [e["status"] for e in sandbox_log(lp.served, "invoke")] == [403]


def test_a_user_without_any_functions_permission_is_403(lp):
    for token in (lp.bearer("viewer"), lp.user_token("viewer")):
        answer = lp.invoke(fn.ECHO, {}, token)
        assert answer.status_code == 403
        assert "viewer may not invoke functions" in answer.json()["message"]
        event = lp.call("GET", "events/conversational_command/isImplemented", token)
        assert event.status_code == 403
        assert "may not read functions" in event.json()["message"]


def test_the_user_id_received_is_recorded(lp):
    token = lp.user_token("agent")
    lp.invoke(fn.ECHO, {}, token, params={"v": "1", "userId": "4000001"})
    (entry,) = sandbox_log(lp.served, "invoke")
    assert entry["userId"] == "4000001" and entry["query"]["userId"] == ["4000001"]


@pytest.mark.parametrize("sandbox_settings", [{"rate_limit": 3}])
def test_past_the_rate_limit_invocations_get_429_with_retry_after(lp, app_token):
    now = [1000.0]
    lp.sandbox.limiter.clock = lambda: now[0]  # time stands still: the test is not timed
    assert lp.invoke(fn.ECHO, {}, app_token).status_code == 200
    assert lp.invoke_event("conversational_command", {}, app_token).status_code == 200
    assert lp.invoke(fn.ECHO, {}, app_token).status_code == 200
    limited = lp.invoke(fn.ECHO, {}, app_token)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert "at most 3 per second" in limited.json()["message"]
    assert lp.invoke_event("conversational_command", {}, app_token).status_code == 429
    # isImplemented is not an invocation.
    path = "events/conversational_command/isImplemented"
    assert lp.call("GET", path, app_token).status_code == 200
    now[0] += 0.5
    assert lp.invoke(fn.ECHO, {}, app_token).status_code == 429
    now[0] += 0.6
    assert lp.invoke(fn.ECHO, {}, app_token).status_code == 200


def test_the_default_rate_limit_is_generous():
    from sandbox import Settings

    assert Settings().rate_limit >= 50


@pytest.mark.parametrize(
    ("sandbox_settings", "body"),
    [
        (
            {"dialect": "v1", "flaky_share": 1.0},
            {
                "errorCode": "com.liveperson.faas.es.general",
                "errorMsg": "Bad gateway: the function could not be reached.",
            },
        ),
        (
            {"dialect": "v2", "flaky_share": 1.0},
            {
                "code": "com.liveperson.faas.evg.general",
                "message": "Bad gateway: the function could not be reached.",
            },
        ),
    ],
)
def test_the_flaky_function_gets_502_at_share_one(lp, app_token, body):
    for _ in range(3):
        answer = lp.invoke(fn.FLAKY, {"city": "Oslo"}, app_token)
        assert answer.status_code == 502 and answer.json() == body


@pytest.mark.parametrize("sandbox_settings", [{"flaky_share": 0.0}])
def test_the_flaky_function_always_answers_at_share_zero(lp, app_token):
    for _ in range(3):
        answer = lp.invoke(fn.FLAKY, {"city": "Oslo"}, app_token)
        assert answer.status_code == 200
        assert answer.json() == {"city": "Oslo", "weather": "sunny"}


def test_the_flaky_share_applies_per_invocation(lp, app_token):
    draws = iter([0.2, 0.7, 0.49, 0.5])
    lp.sandbox.rng.random = lambda: next(draws)  # the default share is 0.5
    statuses = [lp.invoke(fn.FLAKY, {}, app_token).status_code for _ in range(4)]
    assert statuses == [502, 200, 502, 200]


def test_x_request_id_is_echoed_or_made(lp, app_token):
    given = lp.invoke(fn.ECHO, {}, app_token, headers={"X-Request-ID": "req-123"})
    assert given.headers["X-Request-ID"] == "req-123"
    made = lp.invoke(fn.ECHO, {}, app_token)
    assert uuidlib.UUID(made.headers["X-Request-ID"])
    denied = lp.invoke(fn.ECHO, {}, None, headers={"X-Request-ID": "req-401"})
    assert denied.headers["X-Request-ID"] == "req-401"


def test_v1_calls_are_recorded_with_query_headers_and_body(lp, app_token):
    lp.invoke(
        fn.ECHO,
        {"a": 1},
        app_token,
        params={"v": "1", "skillId": "", "externalSystem": "tests"},
        headers={"X-Request-ID": "req-1", "User-Agent": "faas-client-js@2.0.0"},
    )
    (entry,) = sandbox_log(lp.served, "invoke")
    assert entry["uuid"] == fn.ECHO and entry["account"] == ACCOUNT
    assert entry["query"] == {"v": ["1"], "skillId": [""], "externalSystem": ["tests"]}
    assert entry["headers"]["X-Request-ID"] == "req-1"
    assert entry["headers"]["User-Agent"] == "faas-client-js@2.0.0"
    assert entry["headers"]["Authorization"] == "Bearer"
    assert app_token not in repr(entry)
    assert entry["body"] == {"timestamp": 0, "headers": [], "payload": {"a": 1}}
    assert entry["principal"] == "app:sandbox-m2m" and entry["status"] == 200


@pytest.mark.parametrize("sandbox_settings", [V2])
def test_v2_calls_are_recorded_with_the_event_source_header(lp, agent):
    headers = {"LP-EventSource": "tests"}
    lp.invoke_event(
        "conversational_command", {}, agent, params={"skillId": "1001"}, headers=headers
    )
    lp.call("GET", "events/conversational_command/isImplemented", agent)
    lp.invoke(fn.FAILING, {}, agent, params={})
    (event,) = sandbox_log(lp.served, "invoke_event")
    assert event["eventId"] == "conversational_command"
    assert event["headers"]["LP-EventSource"] == "tests"
    assert event["query"] == {"skillId": ["1001"]}
    assert event["principal"] == "user:agent"
    (failed,) = sandbox_log(lp.served, "invoke")
    assert failed["status"] == 901
    assert calls(lp.served, "is_implemented") == 1


def test_every_call_is_counted_even_when_refused(lp, app_token):
    lp.invoke(fn.ECHO, {}, None)
    lp.invoke(fn.ECHO, {}, app_token)
    lp.invoke_event("conversational_command", {}, app_token)
    assert calls(lp.served, "invoke") == 2
    assert calls(lp.served, "invoke_event") == 1
    assert [e["status"] for e in sandbox_log(lp.served, "invoke")] == [401, 200]
