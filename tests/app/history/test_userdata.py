"""History and saved payloads: the same behaviour in SQLite and in Redis."""

import threading

import pytest

from app.history.userdata import HISTORY_LIMIT
from app.history.userdata import RedisUserData
from app.history.userdata import SQLiteUserData


@pytest.fixture(params=["sqlite", "redis"])
def data(request, tmp_path):
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        client.flushdb()
        return RedisUserData(client)
    return SQLiteUserData(str(tmp_path / "userdata.sqlite3"))


def entry(n, kind="function", target="t1"):
    return {"kind": kind, "target": target, "payload": f'{{"n": {n}}}', "n": n}


def test_history_is_newest_first_and_per_user(data):
    ids = [data.add_invocation("u1", entry(n)) for n in range(3)]
    data.add_invocation("u2", entry(99))
    found = data.invocations("u1")
    assert [e["n"] for e in found] == [2, 1, 0]
    assert [e["id"] for e in found] == ids[::-1]
    assert data.invocation("u1", ids[0])["n"] == 0
    assert data.invocation("u2", ids[0]) is None


def test_history_is_capped(data):
    for n in range(HISTORY_LIMIT + 15):
        data.add_invocation("u1", entry(n))
    found = data.invocations("u1")
    assert len(found) == HISTORY_LIMIT
    assert found[0]["n"] == HISTORY_LIMIT + 14 and found[-1]["n"] == 15


def test_last_payload_is_per_target(data):
    data.add_invocation("u1", entry(1, target="a"))
    data.add_invocation("u1", entry(2, target="b"))
    data.add_invocation("u1", entry(3, target="a"))
    assert data.last_payload("u1", "function", "a") == '{"n": 3}'
    assert data.last_payload("u1", "event", "a") is None


def test_saved_payloads_round_trip(data):
    data.save_payload("u1", "function", "t1", "greeting", '{"a": 1}')
    data.save_payload("u1", "function", "t1", "greeting", '{"a": 2}')
    data.save_payload("u1", "event", "e1", "other", "{}")
    data.save_payload("u2", "function", "t1", "theirs", "{}")
    mine = data.payloads("u1", "function", "t1")
    assert [(p["name"], p["payload"]) for p in mine] == [("greeting", '{"a": 2}')]
    assert len(data.payloads("u1")) == 2
    assert data.delete_payload("u1", "function", "t1", "greeting")
    assert not data.delete_payload("u1", "function", "t1", "greeting")
    assert data.payloads("u1", "function", "t1") == []


def test_concurrent_writers_lose_nothing(data):
    barrier = threading.Barrier(8)

    def write(n):
        barrier.wait()
        for k in range(10):
            data.add_invocation("u1", entry(n * 10 + k))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e["n"] for e in data.invocations("u1")) == list(range(80))
