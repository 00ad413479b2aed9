"""The isImplemented cache and the metrics hook."""

import pytest

from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError
from liveperson_functions.results import CallMetric

from .fakes import ACCOUNT
from .fakes import FN_UUID
from .fakes import Reply

INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"


def implemented_path(event):
    return f"/api/account/{ACCOUNT}/events/{event}/isImplemented"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("answer", [True, False])
def test_answers_are_cached_for_60_seconds(fake, make_client, answer):
    fake.reply("GET", implemented_path("e1"), Reply(200, {"implemented": answer}))
    clock = Clock()
    client = make_client(fake.domain, _clock=clock)

    assert client.is_implemented("e1") is answer
    clock.now += 59
    assert client.is_implemented("e1") is answer
    assert len(fake.requests_to(implemented_path("e1"))) == 1

    clock.now += 2
    assert client.is_implemented("e1") is answer
    assert len(fake.requests_to(implemented_path("e1"))) == 2


def test_the_cache_is_per_event_and_skill(fake, make_client):
    fake.reply("GET", implemented_path("e1"), Reply(200, {"implemented": True}))
    fake.reply("GET", implemented_path("e2"), Reply(200, {"implemented": False}))
    client = make_client(fake.domain)

    assert client.is_implemented("e1") is True
    assert client.is_implemented("e1", skill_id="5") is True
    assert client.is_implemented("e2") is False
    assert client.is_implemented("e1", skill_id="5") is True
    assert client.is_implemented("e2") is False

    skills = [dict(s.query).get("skillId") for s in fake.seen]
    assert skills == [None, "5", None]


def test_failures_and_bad_answers_are_not_cached(fake, make_client):
    fake.reply(
        "GET",
        implemented_path("e1"),
        Reply(404, {"errorCode": "x", "errorMsg": "y"}),
        Reply(200, {"implemented": "yes"}),
        Reply(200, {"implemented": True}),
    )
    client = make_client(fake.domain)
    with pytest.raises(FaaSDetailedError):
        client.is_implemented("e1")
    with pytest.raises(FaaSError) as caught:
        client.is_implemented("e1")
    assert caught.value.kind == "bad-response"
    assert client.is_implemented("e1") is True
    assert client.is_implemented("e1") is True
    assert len(fake.requests_to(implemented_path("e1"))) == 3


def test_metrics_for_success_cache_hit_and_failure(fake, make_client):
    events = []
    fake.reply("GET", implemented_path("e1"), Reply(200, {"implemented": True}))
    fake.reply("POST", INVOKE, Reply(200, {"ok": 1}), Reply(901, {"errorCode": "x"}))
    client = make_client(fake.domain, metrics=events.append)

    client.is_implemented("e1")
    client.is_implemented("e1")
    outcome = client.invoke(FN_UUID, {})
    with pytest.raises(FaaSLambdaError):
        client.invoke(FN_UUID, {})
    with pytest.raises(ValueError):
        client.invoke("nope", {})

    assert all(isinstance(e, CallMetric) for e in events)
    fetched, cached, ok, failed, invalid = events
    assert (fetched.operation, fetched.event, fetched.status, fetched.from_cache) == (
        "is_implemented",
        "e1",
        200,
        False,
    )
    assert (cached.status, cached.from_cache, cached.error) == (None, True, None)
    assert (ok.operation, ok.uuid, ok.status, ok.error) == ("invoke", FN_UUID, 200, None)
    assert ok.account == ACCOUNT and ok.request_id == outcome.request_id
    assert ok.domain == fake.domain and ok.platform == "v1"
    assert (failed.status, failed.error, failed.from_cache) == (901, "FaaSLambdaError", False)
    assert (invalid.uuid, invalid.error, invalid.status) == ("nope", "FaaSInputError", None)
    assert all(e.duration_ms >= 0 for e in events)


def test_a_broken_metrics_hook_does_not_break_calls(fake, make_client):
    def broken(_metric):
        raise RuntimeError("metrics backend down")

    fake.reply("POST", INVOKE, Reply(200, {"ok": 1}))
    assert make_client(fake.domain, metrics=broken).invoke(FN_UUID, {}).result == {"ok": 1}
