"""What each client operation puts on the wire, on Functions V1 and V2, and what it returns."""

import re
import socket
import time

import pytest

from liveperson_functions import USER_AGENT
from liveperson_functions.results import EventResult
from liveperson_functions.results import Invocation

from .fakes import ACCOUNT
from .fakes import FN_UUID
from .fakes import Reply

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"


def assert_common_headers(seen, token="user-token"):
    assert seen.headers["authorization"] == f"Bearer {token}"
    assert UUID4.match(seen.headers["x-request-id"])
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == USER_AGENT


def test_invoke_v1_wire_format_and_result(fake, make_client):
    fake.reply("POST", INVOKE, Reply(200, {"greeting": "hi"}))
    client = make_client(fake.domain)
    before = int(time.time() * 1000)

    outcome = client.invoke(FN_UUID, {"name": "Ada"}, headers={"x-trace": "42"})

    [seen] = fake.requests_to(INVOKE)
    assert seen.method == "POST"
    assert seen.query == [("v", "1"), ("externalSystem", "Unknown")]
    assert_common_headers(seen)
    assert "lp-eventsource" not in seen.headers
    body = seen.json()
    assert set(body) == {"timestamp", "headers", "payload"}
    assert before <= body["timestamp"] <= int(time.time() * 1000)
    assert body["headers"] == [{"key": "x-trace", "value": "42"}]
    assert body["payload"] == {"name": "Ada"}
    assert isinstance(outcome, Invocation)
    assert outcome.result == {"greeting": "hi"}
    assert outcome.status == 200
    assert outcome.request_id == seen.headers["x-request-id"]
    assert outcome.domain == fake.domain
    assert outcome.logs == []
    assert outcome.duration_ms >= 0


def test_invoke_v1_with_skill_source_and_request_id(fake, make_client):
    fake.reply("POST", INVOKE, Reply(200, "done"))
    client = make_client(fake.domain, event_source="DefaultSource")

    outcome = client.invoke(
        FN_UUID.upper(), None, skill_id=1234, event_source="my-app", request_id="req-1"
    )

    [seen] = fake.requests_to(INVOKE)
    assert seen.query == [("v", "1"), ("externalSystem", "my-app"), ("skillId", "1234")]
    assert seen.headers["x-request-id"] == "req-1"
    assert seen.json()["payload"] == {}
    assert seen.json()["headers"] == []
    assert outcome.result == "done"
    assert outcome.request_id == "req-1"


def test_invoke_v1_uses_the_client_default_event_source(fake, make_client):
    fake.reply("POST", INVOKE, Reply(200, {}))
    make_client(fake.domain, event_source="DefaultSource").invoke(FN_UUID, {})
    assert fake.requests_to(INVOKE)[0].query == [("v", "1"), ("externalSystem", "DefaultSource")]


def test_invoke_v2_moves_the_event_source_to_a_header(fake, make_client):
    fake.reply("POST", INVOKE, Reply(202, [1, 2]))
    client = make_client(fake.domain, platform="v2")

    outcome = client.invoke(FN_UUID, [1])
    client.invoke(FN_UUID, [1], skill_id="77", event_source="crm")

    first, second = fake.requests_to(INVOKE)
    assert first.query == []
    assert first.headers["lp-eventsource"] == "Unknown"
    assert second.query == [("skillId", "77")]
    assert second.headers["lp-eventsource"] == "crm"
    assert_common_headers(second)
    assert second.json()["payload"] == [1]
    assert outcome.status == 202
    assert outcome.result == [1, 2]


@pytest.mark.parametrize(
    ("reply", "result", "logs"),
    [
        (Reply(200, b"plain text, not JSON"), "plain text, not JSON", []),
        (Reply(200, b""), None, []),
        (
            Reply(200, {"result": {"ok": True}, "logs": [{"level": "Info", "message": "m"}]}),
            {"ok": True},
            [{"level": "Info", "message": "m"}],
        ),
        (
            Reply(200, {"result": 1, "logs": [], "more": 2}),
            {"result": 1, "logs": [], "more": 2},
            [],
        ),
    ],
)
def test_invoke_result_parsing(fake, make_client, reply, result, logs):
    fake.reply("POST", INVOKE, reply)
    outcome = make_client(fake.domain).invoke(FN_UUID, {})
    assert outcome.result == result
    assert outcome.logs == logs


def test_invoke_event_v1_and_v2(fake, make_client):
    path = f"/api/account/{ACCOUNT}/events/conversational_command/invoke"
    items = [{"uuid": FN_UUID, "timestamp": "2017-07-09", "result": {"a": 1}}]
    fake.reply("POST", path, Reply(200, items))

    v1 = make_client(fake.domain).invoke_event(
        "conversational_command", {"q": 1}, headers=[("h", "v")], skill_id="5"
    )
    v2 = make_client(fake.domain, platform="v2").invoke_event(
        "conversational_command", {"q": 1}, event_source="bot"
    )

    first, second = fake.requests_to(path, "POST")
    assert first.query == [("v", "1"), ("externalSystem", "Unknown"), ("skillId", "5")]
    assert first.json()["headers"] == [{"key": "h", "value": "v"}]
    assert first.json()["payload"] == {"q": 1}
    assert_common_headers(first)
    assert second.query == []
    assert second.headers["lp-eventsource"] == "bot"
    expected = [EventResult(FN_UUID, "2017-07-09", {"a": 1})]
    assert v1 == expected
    assert v2 == expected


def test_invoke_event_with_no_implementation_returns_empty_list(fake, make_client):
    fake.reply("POST", f"/api/account/{ACCOUNT}/events/unknown_event/invoke", Reply(200, []))
    assert make_client(fake.domain).invoke_event("unknown_event", {}) == []


def test_event_ids_are_percent_encoded_in_the_path(fake, make_client):
    fake.reply("POST", f"/api/account/{ACCOUNT}/events/ns%3Aevent/invoke", Reply(200, []))
    assert make_client(fake.domain).invoke_event("ns:event", {}) == []
    assert len(fake.requests_to(f"/api/account/{ACCOUNT}/events/ns%3Aevent/invoke")) == 1


def test_is_implemented_v1_and_v2(fake, make_client):
    path = f"/api/account/{ACCOUNT}/events/bot_connectors_pre_hook/isImplemented"
    fake.reply("GET", path, Reply(200, {"implemented": True}))

    assert make_client(fake.domain).is_implemented("bot_connectors_pre_hook", skill_id="9")
    assert make_client(fake.domain, platform="v2").is_implemented("bot_connectors_pre_hook")

    first, second = fake.requests_to(path)
    assert first.method == second.method == "GET"
    assert first.query == [("v", "1"), ("externalSystem", "Unknown"), ("skillId", "9")]
    assert_common_headers(first)
    assert second.query == []
    assert second.headers["lp-eventsource"] == "Unknown"


def test_is_implemented_false(fake, make_client):
    path = f"/api/account/{ACCOUNT}/events/e1/isImplemented"
    fake.reply("GET", path, Reply(200, {"implemented": False}))
    assert make_client(fake.domain).is_implemented("e1") is False


V1_LAMBDA = {
    "uuid": FN_UUID,
    "version": 3,
    "name": "greeter",
    "description": "Says hi",
    "eventId": "conversational_command",
    "samplePayload": {"headers": [], "payload": {"x": 1}},
    "state": "Productive",
    "runtime": {"uuid": "r", "name": "Node.js 10", "baseImageName": "img"},
    "createdAt": "2024-01-01T00:00:00Z",
    "createdBy": 42,
    "updatedAt": "2024-01-02T00:00:00Z",
    "updatedBy": "43",
    "lastDeployment": {},
    "implementation": {"code": "..."},
}
V2_FUNCTION = {
    "uuid": FN_UUID,
    "name": "greeter",
    "description": None,
    "state": "Modified",
    "skills": ["11", "12"],
    "eventId": None,
    "size": "S",
    "isCompV1": "true",
    "createdAt": "2025-01-01T00:00:00Z",
    "createdBy": "7",
    "updatedAt": "2025-01-02T00:00:00Z",
    "updatedBy": "8",
}


def test_list_functions_v1(fake, make_client):
    path = f"/api/account/{ACCOUNT}/lambdas"
    fake.reply("GET", path, Reply(200, [V1_LAMBDA]))
    ui = f"localhost:{fake.port}"
    client = make_client(fake.domain, ui=ui)

    functions = client.list_functions(
        state="Productive", event_id="conversational_command", name="greet", user_id="u1"
    )

    [seen] = fake.requests_to(path)
    assert seen.method == "GET"
    assert seen.headers["host"] == ui
    assert seen.query == [
        ("v", "1"),
        ("userId", "u1"),
        ("state", "Productive"),
        ("eventId", "conversational_command"),
        ("name", "greet"),
    ]
    assert_common_headers(seen)
    assert functions == [
        {
            "uuid": FN_UUID,
            "name": "greeter",
            "description": "Says hi",
            "state": "Productive",
            "eventId": "conversational_command",
            "skills": [],
            "samplePayload": {"headers": [], "payload": {"x": 1}},
            "createdBy": "42",
            "createdAt": "2024-01-01T00:00:00Z",
            "updatedBy": "43",
            "updatedAt": "2024-01-02T00:00:00Z",
            "platform": "v1",
        }
    ]


def test_list_functions_v1_without_filters_sends_only_the_version(fake, make_client):
    fake.reply("GET", f"/api/account/{ACCOUNT}/lambdas", Reply(200, []))
    assert make_client(fake.domain).list_functions() == []
    assert fake.seen[-1].query == [("v", "1")]


def test_list_functions_v2(fake, make_client):
    path = f"/api/account/{ACCOUNT}/functions"
    fake.reply("GET", path, Reply(200, [V2_FUNCTION]))
    client = make_client(fake.domain, platform="v2")

    functions = client.list_functions(
        state=["Productive", "Modified"], event_id="e", name="greet", user_id="u1"
    )

    [seen] = fake.requests_to(path)
    assert seen.query == [
        ("userId", "u1"),
        ("state", "Productive"),
        ("state", "Modified"),
        ("eventId", "e"),
        ("functionName", "greet"),
    ]
    assert functions == [
        {
            "uuid": FN_UUID,
            "name": "greeter",
            "description": "",
            "state": "Modified",
            "eventId": None,
            "skills": ["11", "12"],
            "samplePayload": None,
            "createdBy": "7",
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedBy": "8",
            "updatedAt": "2025-01-02T00:00:00Z",
            "platform": "v2",
        }
    ]


@pytest.fixture
def loopback_names(monkeypatch):
    """Resolve any *.localhost name to 127.0.0.1, as systemd-resolved does."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_v2_is_detected_from_the_gateway_and_ui_domains(fake, make_client, loopback_names):
    fake.reply("POST", INVOKE, Reply(200, {}))
    fake.reply("GET", f"/api/account/{ACCOUNT}/functions", Reply(200, []))
    fake.reply("GET", f"/api/account/{ACCOUNT}/lambdas", Reply(200, []))
    v2 = make_client(f"ause1.fninvocations.localhost:{fake.port}", ui=fake.domain)
    v2_ui = make_client(fake.domain, ui=f"functions.localhost:{fake.port}")

    outcome = v2.invoke(FN_UUID, {})
    v2.list_functions()  # the UI host has no marker: V1 listing
    v2_ui.invoke(FN_UUID, {})  # the gateway host has no marker: V1 invocation
    v2_ui.list_functions()

    v2_invoke, v1_invoke = fake.requests_to(INVOKE)
    assert v2_invoke.query == [] and v2_invoke.headers["lp-eventsource"] == "Unknown"
    assert ("v", "1") in v1_invoke.query
    assert outcome.domain == f"ause1.fninvocations.localhost:{fake.port}"
    assert [s.path.rsplit("/", 1)[1] for s in fake.seen if s.method == "GET"] == [
        "lambdas",
        "functions",
    ]


def test_forced_v1_overrides_a_v2_looking_domain(fake, make_client, loopback_names):
    fake.reply("POST", INVOKE, Reply(200, {}))
    make_client(f"fninvocations.localhost:{fake.port}", platform="v1").invoke(FN_UUID, {})
    assert ("v", "1") in fake.requests_to(INVOKE)[0].query


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.invoke("not-a-uuid", {}), "UUID"),
        (lambda c: c.invoke(FN_UUID + "0", {}), "UUID"),
        (lambda c: c.invoke("../../x/invoke", {}), "UUID"),
        (lambda c: c.invoke_event("bad/event", {}), "event id"),
        (lambda c: c.invoke_event("", {}), "event id"),
        (lambda c: c.is_implemented("e?x=1"), "event id"),
        (lambda c: c.invoke(FN_UUID, {}, skill_id="1&v=2"), "skill"),
        (lambda c: c.invoke(FN_UUID, {}, event_source="a\r\nX-Evil: 1"), "event source"),
        (lambda c: c.invoke(FN_UUID, {}, request_id="bad id"), "request id"),
        (lambda c: c.invoke(FN_UUID, {}, headers={"k": 1}), "headers"),
        (lambda c: c.invoke(FN_UUID, {"x": float("nan")}), "JSON"),
        (lambda c: c.invoke(FN_UUID, object()), "JSON"),
        (lambda c: c.invoke(FN_UUID, {}, timeout=0), "timeout"),
    ],
)
def test_bad_input_raises_value_error_before_any_request(fake, make_client, call, message):
    with pytest.raises(ValueError, match=message):
        call(make_client(fake.domain))
    assert fake.seen == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"platform": "v3"},
        {"event_source": "bad\nsource"},
        {"account_id": "12/34"},
        {"user_id": "4/1"},
    ],
)
def test_bad_client_configuration_raises_value_error(fake, kwargs):
    from liveperson_functions.auth import UserBearer
    from liveperson_functions.client import FunctionsClient

    from .fakes import resolver_for

    args = {"account_id": ACCOUNT, **kwargs}
    with pytest.raises(ValueError):
        FunctionsClient(
            args.pop("account_id"), UserBearer(lambda: "t"), resolver_for(fake.domain), **args
        )


@pytest.mark.parametrize("platform", ["v1", "v2"])
def test_user_id_rides_on_every_call_made_with_a_users_token(fake, make_client, platform):
    # Documented: …/lambdas/{uuid}/invoke?v=1&userId={userId} ("user-Id from user that created
    # the OAuth2 token"); LivePerson's CLI sends userId on every faasUI and gateway call.
    event = f"/api/account/{ACCOUNT}/events/e1"
    listing = f"/api/account/{ACCOUNT}/" + ("lambdas" if platform == "v1" else "functions")
    fake.reply("POST", INVOKE, Reply(200, {}))
    fake.reply("POST", f"{event}/invoke", Reply(200, []))
    fake.reply("GET", f"{event}/isImplemented", Reply(200, {"implemented": True}))
    fake.reply("GET", listing, Reply(200, []))
    client = make_client(fake.domain, user_id="4000001", platform=platform)

    client.invoke(FN_UUID, {})
    client.invoke_event("e1", {}, skill_id="7")
    client.is_implemented("e1")
    client.list_functions()
    client.list_functions(user_id="42")  # a per-call id wins

    queries = [dict(seen.query) for seen in fake.seen]
    assert [q.get("userId") for q in queries] == ["4000001"] * 4 + ["42"]
    if platform == "v1":
        expected = [("v", "1"), ("externalSystem", "Unknown"), ("userId", "4000001")]
        assert fake.seen[0].query == expected
    assert queries[1]["skillId"] == "7"


def test_without_a_user_id_none_is_sent(fake, make_client):
    fake.reply("POST", INVOKE, Reply(200, {}))
    make_client(fake.domain).invoke(FN_UUID, {})
    assert "userId" not in dict(fake.seen[-1].query)
