"""The audit trail's store: the same behaviour in SQLite and in Redis."""

import sqlite3

import pytest

from app.audit import store
from app.audit.store import DAY
from app.audit.store import RedisTrail
from app.audit.store import SQLiteTrail
from app.history.userdata import RedisUserData
from app.history.userdata import SQLiteUserData

NOW = 1_800_000_000.0


class Clock:
    """A clock the test moves."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    """Return (user data, a function opening a trail for an account) on one store."""
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        client.flushdb()
        data = RedisUserData(client)
        return data, lambda account, **kw: RedisTrail(client, account, 90, **kw)
    data = SQLiteUserData(str(tmp_path / "userdata.sqlite3"))
    return data, lambda account, **kw: SQLiteTrail(data, account, 90, **kw)


def record(n, at=NOW, **fields):
    return {"id": f"r{n}", "at": at, "type": "invocation", "n": n, **fields}


def entry(n):
    return {"kind": "function", "target": "t1", "payload": "{}", "n": n}


def test_records_come_newest_first_within_the_time_range(backend):
    _data, trail_for = backend
    trail = trail_for("acct", clock=Clock())
    for n in range(5):
        trail.add(record(n, at=NOW - 100 + n * 10))
    assert [r["n"] for r in trail.records()] == [4, 3, 2, 1, 0]
    # From (inclusive) up to (not at) the end of the range.
    assert [r["n"] for r in trail.records(NOW - 90, NOW - 60)] == [3, 2, 1]


def test_the_record_rides_with_the_history_entry(backend):
    data, trail_for = backend
    failures = []
    trail = trail_for("acct", failed=lambda: failures.append(1), clock=Clock())
    entry_id = data.add_invocation("u1", entry(1), trail.rider(record(1)))
    assert data.invocation("u1", entry_id)["n"] == 1
    assert [r["n"] for r in trail.records()] == [1]
    assert failures == []


def test_a_failed_audit_write_keeps_the_history_entry_and_is_counted(backend, tmp_path):
    data, trail_for = backend
    failures = []
    trail = trail_for("acct", failed=lambda: failures.append(1), clock=Clock())
    if isinstance(trail, RedisTrail):
        trail.client.set(trail.key, "not a sorted set")  # every write to it now fails
    else:
        with sqlite3.connect(tmp_path / "userdata.sqlite3") as other:
            other.execute("DROP TABLE audit")
    entry_id = data.add_invocation("u1", entry(1), trail.rider(record(1)))
    assert data.invocation("u1", entry_id)["n"] == 1
    assert failures == [1]


def test_another_account_sees_nothing(backend):
    _data, trail_for = backend
    ours, theirs = trail_for("acct", clock=Clock()), trail_for("other", clock=Clock())
    ours.add(record(1))
    theirs.add(record(2))
    assert [r["n"] for r in ours.records()] == [1]
    assert [r["n"] for r in theirs.records()] == [2]


def test_retention_drops_records_older_than_audit_days(backend):
    _data, trail_for = backend
    clock = Clock()
    trail = trail_for("acct", clock=clock)
    trail.add(record(1, at=NOW - 91 * DAY))  # already past the 90 days: dropped on write
    trail.add(record(2, at=NOW - 89 * DAY))
    trail.add(record(3, at=NOW))
    assert [r["n"] for r in trail.records()] == [3, 2]
    clock.now += 2 * DAY
    # Past its 90 days, a record is never shown, and the next write removes it for good.
    assert [r["n"] for r in trail.records()] == [3]
    trail.add(record(4, at=clock.now))
    clock.now = NOW  # back in time: what was dropped stays dropped
    assert [r["n"] for r in trail.records()] == [4, 3]


def test_reading_pages_through_many_records_sharing_a_time(backend, monkeypatch):
    _data, trail_for = backend
    monkeypatch.setattr(store, "BATCH", 3)
    trail = trail_for("acct", clock=Clock())
    for n in range(10):
        trail.add(record(n, at=NOW - (n // 2)))  # two records at each time
    found = [r["n"] for r in trail.records()]
    assert sorted(found) == list(range(10))
    assert [n // 2 for n in found] == sorted(n // 2 for n in range(10))
