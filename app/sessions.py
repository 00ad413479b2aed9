"""Server-side sessions with Flask-Session on the app's store: JSON only, ended sessions stay
ended, and a store outage becomes a quick 503 rather than a 500.

A session that is not signed in (a sign-in under way, a signed-out browser) is carried in the
cookie itself, encrypted, for SIGN_IN_TIME at most: requests that never sign in write nothing
to the store, however many there are.
"""

import base64
import hashlib
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import msgspec
import redis
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from flask import current_app
from flask import request
from flask import session
from flask_session.base import Serializer
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from app.store import RedisStore
from app.store import StoreError

KEY_PREFIX = "session:"
# How long a session that is not signed in lasts: the time a sign-in takes, walk-through
# pauses included.
SIGN_IN_TIME = 15 * 60
# A carried session's cookie starts with this; a store id (token_urlsafe) never has a dot.
CARRIED = "c."
# Browsers drop cookies past 4096 bytes (name and attributes included).
MAX_CARRIED = 3800
KEPT_STATES = 3
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
    fernet = None

    def _retrieve_session_data(self, store_id):
        data = super()._retrieve_session_data(store_id)
        return data if isinstance(data, dict) else None

    def open_session(self, app, request):
        # Health checks and assets never need a session, so they never wait on the store.
        if request.path in STORELESS_PATHS or request.path.startswith(app.static_url_path + "/"):
            return self.make_null_session(app)
        value = request.cookies.get(app.config["SESSION_COOKIE_NAME"], "")
        if value.startswith(CARRIED):
            return self.open_carried(value)
        try:
            return super().open_session(app, request)
        except (StoreError, redis.RedisError, OSError):
            request.environ["invoker.store_down"] = True
            return self.make_null_session(app)

    def open_carried(self, value):
        """Return the session a cookie carries, or a new one if it is forged or too old."""
        try:
            data = msgspec.json.decode(
                self.fernet.decrypt(value[len(CARRIED) :].encode(), ttl=SIGN_IN_TIME)
            )
        except (InvalidToken, msgspec.DecodeError, UnicodeEncodeError):
            data = None
        sid = self._generate_sid(self.sid_length)
        if not isinstance(data, dict) or "user" in data:
            return self.session_class(sid=sid, permanent=self.permanent)
        return self.session_class(data, sid=sid)

    def save_session(self, app, session, response):
        try:
            if session and carried(session) and self.save_carried(app, session, response):
                return
            super().save_session(app, session, response)
        except (redis.RedisError, OSError) as exc:
            raise StoreError(str(exc)) from exc

    def save_carried(self, app, session, response):
        """Put a session that is not signed in into its cookie; False if it cannot fit."""
        if not session.modified:
            return True
        # Each /login adds a state: keep the newest few (sign-ins in several tabs). Past the
        # cookie's size, keep only the newest, then give up a very long `next` for "/".
        for keep in (KEPT_STATES, 1, 0):
            # authlib keeps each as {"data": …, "exp": when it expires}.
            states = sorted(
                (name for name in session if name.startswith("_state_")),
                key=lambda name: session[name].get("exp", 0),
            )
            for name in states[: -max(keep, 1)]:
                del session[name]
            if keep == 0 and "next" in session:
                session["next"] = "/"
            value = CARRIED + self.fernet.encrypt(msgspec.json.encode(dict(session))).decode()
            if len(value) <= MAX_CARRIED:
                break
        else:
            return False
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")
        return True

    def get_expiration_time(self, app, session):
        if "user" in session:
            return super().get_expiration_time(app, session)
        return datetime.now(UTC) + timedelta(seconds=SIGN_IN_TIME)

    def _upsert_session(self, session_lifetime, session, store_id):
        # Stored but not signed in (a form kept for after sign-in): short-lived all the same.
        if "user" not in session:
            session_lifetime = timedelta(seconds=SIGN_IN_TIME)
        # A request that loaded the session before sign-out may write it back afterwards. Its
        # tombstone, checked before and after writing (as token records are), keeps that copy
        # out of the store; checked on the rare write, not on every read (issue 14).
        if self.store.get(f"ended:{store_id}"):
            return
        super()._upsert_session(session_lifetime, session, store_id)
        if self.store.get(f"ended:{store_id}"):
            self._delete_session(store_id)


def carried(session):
    """Tell whether a session goes in its cookie: not signed in, and holding no kept form but
    one of no known user (small: resume.MAX_OWNERLESS_FORM)."""
    pending = session.get("pending_form")
    return "user" not in session and (pending is None or pending.get("sub") is None)


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
    # Its own key, derived from SECRET_KEY: the carried sessions' cookies are encrypted.
    digest = hashlib.sha256(b"invoker carried session\0" + app.config["SECRET_KEY"].encode())
    interface.fernet = Fernet(base64.urlsafe_b64encode(digest.digest()))
    app.session_interface = interface
    app.before_request(refuse_without_store)


def refuse_without_store():
    if request.environ.get("invoker.store_down") and request.endpoint not in STORELESS:
        raise StoreError("the session store did not answer")


def end():
    """Mark this session id as ended for good, then go on under a new, empty-handed id."""
    now = time.time()
    ttl = current_app.config["LP_MAX_SESSION"]
    if not carried(session):
        # A carried session has no store id to bring back, so it needs no tombstone.
        current_app.extensions["store"].set(f"ended:{KEY_PREFIX}{session.sid}", {"at": now}, ttl)
    session.clear()
    # regenerate() ignores an empty session, so keep one harmless key.
    session["signed_out_at"] = now
    current_app.session_interface.regenerate(session)
