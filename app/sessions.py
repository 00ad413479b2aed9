"""Server-side sessions with Flask-Session on the app's store: JSON only, ended sessions stay
ended, and a store outage becomes a quick 503 rather than a 500.
"""

import time

import msgspec
import redis
from flask import current_app
from flask import request
from flask import session
from flask_session.base import Serializer
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from app.store import RedisStore
from app.store import StoreError

KEY_PREFIX = "session:"
# Pages that must answer while the store is down: load balancers and assets.
STORELESS = {"static", "health.healthz", "health.readyz", "metrics.metrics"}
STORELESS_PATHS = {"/healthz", "/readyz", "/metrics"}


class JSONOnly(Serializer):
    """Encode sessions as JSON; anything else in the store decodes to "no session"."""

    def encode(self, session):
        return msgspec.json.encode(dict(session))

    def decode(self, serialized_data):
        # Flask-Session's own serializer falls back to pickle.loads: a planted value runs code.
        try:
            return msgspec.json.decode(serialized_data)
        except msgspec.DecodeError:
            return None


class Guarded:
    """What both backends add: no non-dict data, tombstones, and store errors as StoreError."""

    store = None

    def _retrieve_session_data(self, store_id):
        # A request that loaded the session before sign-out may write it back afterwards;
        # the tombstone keeps that copy from ever being read.
        if self.store.get(f"ended:{store_id}"):
            return None
        data = super()._retrieve_session_data(store_id)
        return data if isinstance(data, dict) else None

    def open_session(self, app, request):
        # Health checks and assets never need a session, so they never wait on the store.
        if request.path in STORELESS_PATHS or request.path.startswith(app.static_url_path + "/"):
            return self.make_null_session(app)
        try:
            return super().open_session(app, request)
        except (StoreError, redis.RedisError, OSError):
            request.environ["invoker.store_down"] = True
            return self.make_null_session(app)

    def save_session(self, app, session, response):
        try:
            super().save_session(app, session, response)
        except (redis.RedisError, OSError) as exc:
            raise StoreError(str(exc)) from exc


class FileSessions(Guarded, CacheLibSessionInterface):
    """Sessions in the host's file store."""


class RedisSessions(Guarded, RedisSessionInterface):
    """Sessions in Redis, shared by every host."""

    def __init__(self, app, **kwargs):
        super().__init__(app, **kwargs)
        self.serializer = JSONOnly()


def init_app(app, store):
    """Install the session interface for the configured store."""
    options = {"key_prefix": KEY_PREFIX, "permanent": True}
    if isinstance(store, RedisStore):
        interface = RedisSessions(app, client=store.client, **options)
    else:
        interface = FileSessions(app, client=store.cache, **options)
    interface.store = store
    app.session_interface = interface
    app.before_request(refuse_without_store)


def refuse_without_store():
    if request.environ.get("invoker.store_down") and request.endpoint not in STORELESS:
        raise StoreError("the session store did not answer")


def end():
    """Mark this session id as ended for good, then go on under a new, empty-handed id."""
    now = time.time()
    ttl = current_app.config["LP_MAX_SESSION"]
    current_app.extensions["store"].set(f"ended:{KEY_PREFIX}{session.sid}", {"at": now}, ttl)
    session.clear()
    # regenerate() ignores an empty session, so keep one harmless key.
    session["signed_out_at"] = now
    current_app.session_interface.regenerate(session)
