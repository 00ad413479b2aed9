"""The store behind sessions and token records: the same behaviour on files and on Redis."""

import pickle
import threading

import pytest

from app.store import FileStore
from app.store import RedisStore
from app.store import StoreError


@pytest.fixture(params=["filesystem", "redis"])
def store(request, tmp_path):
    if request.param == "redis":
        backend = RedisStore(request.getfixturevalue("redis_url"))
        backend.client.flushdb()
        return backend
    return FileStore(str(tmp_path / "store"))


def test_round_trip_and_delete(store):
    store.set("k", {"a": 1, "b": [1, "x"]}, 60)
    assert store.get("k") == {"a": 1, "b": [1, "x"]}
    store.delete("k")
    assert store.get("k") is None


def test_more_than_500_entries_are_all_kept(store):
    # cachelib's default threshold would silently delete the oldest past 500.
    for n in range(600):
        store.set(f"k{n}", {"n": n}, 60)
    assert store.get("k0") == {"n": 0} and store.get("k599") == {"n": 599}


def test_lock_excludes_and_times_out(store):
    held = threading.Event()
    release = threading.Event()

    def holder():
        with store.lock("x", ttl=5, wait=1):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with pytest.raises(StoreError), store.lock("x", ttl=5, wait=0.2):
        pass
    release.set()
    thread.join()
    with store.lock("x", ttl=5, wait=1):
        pass


def test_ping(store):
    assert store.ping()


def planted(store, key, raw):
    """Write raw bytes where the store keeps `key`, as an intruder with store access could."""
    if isinstance(store, RedisStore):
        store.client.set(key, raw)
    else:
        with open(store.cache._get_filename(key), "wb") as file:
            file.write(b"\x00\x00\x00\x00" + raw)


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle ran')",))


@pytest.mark.parametrize(
    "raw",
    [b"garbage\xff", b"1", b"[1, 2]", b'"text"', pickle.dumps(Boom())],
    ids=["garbage", "int", "list", "string", "pickle"],
)
def test_planted_values_read_as_nothing(store, raw):
    planted(store, "k", raw)
    assert store.get("k") is None


def test_unreachable_redis_raises_store_error():
    store = RedisStore("redis://127.0.0.1:1/0")
    with pytest.raises(StoreError):
        store.get("k")
    assert store.ping() is False
