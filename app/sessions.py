"""Server-side sessions with Flask-Session on the app's store, decoded as JSON or not at all."""

import msgspec
from flask_session.base import Serializer
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from .store import RedisStore

KEY_PREFIX = "session:"


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


class DictOnly:
    """Treat a stored value that is not a dict (garbage, `1`, `[1, 2]`) as no session."""

    def _retrieve_session_data(self, store_id):
        data = super()._retrieve_session_data(store_id)
        return data if isinstance(data, dict) else None


class FileSessions(DictOnly, CacheLibSessionInterface):
    """Sessions in the host's file store."""


class RedisSessions(DictOnly, RedisSessionInterface):
    """Sessions in Redis, shared by every host."""

    def __init__(self, app, **kwargs):
        super().__init__(app, **kwargs)
        self.serializer = JSONOnly()


def init_app(app, store):
    """Install the session interface for the configured store."""
    options = {"key_prefix": KEY_PREFIX, "permanent": True}
    if isinstance(store, RedisStore):
        app.session_interface = RedisSessions(app, client=store.client, **options)
    else:
        app.session_interface = FileSessions(app, client=store.cache, **options)
