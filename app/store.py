"""The server-side store for sessions, token records and locks: files or Redis, JSON only."""

import contextlib
import fcntl
import hashlib
import json
import os
import time

import redis
from cachelib import FileSystemCache
from cachelib.serializers import JSONSerializer
from redis.backoff import NoBackoff
from redis.retry import Retry


class StoreError(Exception):
    """The store cannot be reached or a lock cannot be taken in time."""


class JSONFileCache(FileSystemCache):
    """cachelib's file cache writing JSON, never pickle: a planted file cannot run code."""

    serializer = JSONSerializer()


class FileStore:
    """One host's store: a directory shared by every gunicorn worker on it."""

    def __init__(self, path):
        # threshold=0: cachelib otherwise deletes the oldest entries past 500, signing users out.
        self.path = path
        self.cache = JSONFileCache(path, threshold=0)
        self.lock_dir = os.path.join(path, "locks")
        os.makedirs(self.lock_dir, exist_ok=True)

    def get(self, key):
        value = self.cache.get(key)
        return value if isinstance(value, dict) else None

    def set(self, key, value, ttl):
        if not self.cache.set(key, value, timeout=int(ttl)):
            raise StoreError(f"could not write {key!r} to the session directory")

    def delete(self, key):
        self.cache.delete(key)

    @contextlib.contextmanager
    def lock(self, name, ttl=15, wait=10):
        """Hold an exclusive lock across threads and processes; the OS frees it on exit."""
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        with open(os.path.join(self.lock_dir, digest), "a+") as file:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"lock {name!r} is busy") from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def ping(self):
        return os.access(self.path, os.W_OK)


class RedisStore:
    """A store shared by any number of hosts."""

    def __init__(self, url):
        # Short timeouts and no retries: redis-py's default retries with backoff would hold
        # a request for many seconds against a black-holed Redis.
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )

    def get(self, key):
        try:
            raw = self.client.get(key)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set(self, key, value, ttl):
        try:
            self.client.set(key, json.dumps(value), ex=max(1, int(ttl)))
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    def delete(self, key):
        try:
            self.client.delete(key)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc

    @contextlib.contextmanager
    def lock(self, name, ttl=15, wait=10):
        """Hold a Redis lock with a TTL, so a crashed holder cannot block others for long."""
        lock = self.client.lock(f"lock:{name}", timeout=ttl, blocking_timeout=wait)
        try:
            acquired = lock.acquire()
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
        if not acquired:
            raise StoreError(f"lock {name!r} is busy")
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):
                lock.release()

    def ping(self):
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False


def open_store(config, instance_path):
    """Open the store SESSION_BACKEND names."""
    if config["SESSION_BACKEND"] == "redis":
        return RedisStore(config["REDIS_URL"])
    return FileStore(os.path.join(instance_path, "store"))
