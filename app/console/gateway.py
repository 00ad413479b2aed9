"""The signed-in user's Functions client: their token, one connection pool per worker."""

import logging
import threading
import uuid

from cachetools import LRUCache
from cachetools import TTLCache
from flask import current_app
from flask import g
from flask import session

from app import metrics
from app.auth import tokens
from app.config import UPSTREAM_TRUST_ENV
from app.config import USER_AGENT_TOKEN
from app.console import as_app
from liveperson_functions import USER_AGENT as client_user_agent
from liveperson_functions.auth import ClientCredentials
from liveperson_functions.auth import UserBearer
from liveperson_functions.client import FunctionsClient
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError
from liveperson_functions.transport import make_session

EVENT_SOURCE = "FunctionsInvoker"
USER_AGENT = f"{client_user_agent} {USER_AGENT_TOKEN}"
CLIENTS_PER_WORKER = 512
FUNCTIONS_TTL = 30  # how long a listed account's functions are reused
LISTING_GRANT_TTL = 300  # how long a session that listed may reuse the account's list
LISTING_REFUSALS = (403, 404)  # faasUI's "not for you": kept as briefly as a list is
log = logging.getLogger("app.upstream")


class SessionBearer(UserBearer):
    """The session's token record as a bearer: a renewal after a refusal replaces only the
    token that was refused (ten pages refused at once with a dead token make one refresh)."""

    def __init__(self, key):
        super().__init__(lambda: tokens.current(key)["access_token"])
        self.key = key

    def refresh(self, failed=None):
        refused = failed.removeprefix("Bearer ") if failed else None
        tokens.refresh(
            self.key, force=True, why="LivePerson refused the access token", refused=refused
        )
        return True


class Clients:
    """A bounded map of per-session clients sharing one pool, so caches outlive a request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clients = LRUCache(CLIENTS_PER_WORKER)
        self.app_client = None
        # One list per account, not per session: 2,000 functions are megabytes of objects.
        self.listed = TTLCache(1, FUNCTIONS_TTL)
        self.may_list = TTLCache(CLIENTS_PER_WORKER, LISTING_GRANT_TTL)
        self.refused = TTLCache(CLIENTS_PER_WORKER, FUNCTIONS_TTL)
        self.http = None

    def pool(self):
        """Return this worker's connection pool; call with the lock held."""
        if self.http is None:
            # Built lazily, so each gunicorn worker opens its own pool after fork.
            self.http = make_session(trust_env=UPSTREAM_TRUST_ENV)
        return self.http

    def client(self, key, user_id):
        """Return the client acting as the user of the session whose token record is `key`."""
        with self.lock:
            found = self.clients.get(key)
            if found is None:
                auth = SessionBearer(key)
                # Each client serves one session, so one user: the documented calls carry its id.
                found = self.clients[key] = build_client(auth, self.pool(), user_id)
            return found

    def app(self):
        """Return the client acting as the app; its token is fetched and kept here."""
        with self.lock:
            if self.app_client is None:
                config, http = current_app.config, self.pool()
                auth = ClientCredentials(
                    config["LP_APP_CLIENT_ID"],
                    config["LP_APP_CLIENT_SECRET"],
                    current_app.extensions["resolver"],
                    config["LP_ACCOUNT_ID"],
                    session=http,
                    user_agent=USER_AGENT,
                )
                self.app_client = build_client(auth, http)
            return self.app_client


def init_app(app):
    app.extensions["faas_clients"] = Clients()


# A transport failure or a 5xx is the platform's trouble; a 4xx or a 901 is an answer.
OUTAGE_KINDS = {"connect", "tls", "read-timeout", "broken", "timeout", "bad-response", "redirect"}


def is_outage(error):
    """Tell whether a failed call means the service itself is in trouble."""
    if isinstance(error, FaaSLambdaError):
        return False
    if isinstance(error, FaaSDetailedError):
        return error.status >= 500
    return error.kind in OUTAGE_KINDS


def call(service, operation, acting=None):
    """Run `operation(client)` through the service's circuit breaker (faasGW or faasUI), as
    `acting()` says (by default the identity the user chose)."""
    breaker = current_app.extensions["breakers"][service]
    breaker.allow()
    try:
        return settle(breaker, lambda: operation((acting or client)()))
    except FaaSDetailedError as error:
        if error.status == 401:
            # The client already renewed the token and replayed once (RL-03): a second 401
            # means this sign-in no longer works, so end it and ask to sign in again.
            raise tokens.SignInRequired(
                "LivePerson refused your access even after renewing it. Sign in again."
            ) from error
        raise


def settle(breaker, attempt):
    """Run `attempt()` after `breaker.allow()`, and tell the breaker how it went."""
    try:
        result = attempt()
    except FaaSError as error:
        (breaker.failure if is_outage(error) else breaker.success)()
        raise
    except Exception:
        # Not the service's answer (the user's sign-in ended, say): nothing against it, and
        # a probe let through by allow() must not leave the breaker half-open.
        breaker.success()
        raise
    breaker.success()
    return result


def build_client(auth, http, user_id=None):
    config = current_app.config
    return FunctionsClient(
        config["LP_ACCOUNT_ID"],
        auth,
        current_app.extensions["resolver"],
        user_id=user_id,
        platform=config.get("LP_PLATFORM"),
        event_source=EVENT_SOURCE,
        metrics=log_call,
        session=http,
        user_agent=USER_AGENT,
    )


def client():
    """Return the Functions client acting as the signed-in user (or the app, if an admin chose)."""
    if as_app.chosen():
        return current_app.extensions["faas_clients"].app()
    return user_client()


def user_client():
    """Return the Functions client acting as the signed-in user, whoever was chosen to act."""
    registry = current_app.extensions["faas_clients"]
    return registry.client(session["token_key"], session["user"]["sub"])


def functions():
    """Return the account's functions, listed at most every 30 s per worker.

    The list is shared, but only with sessions that faasUI itself let list recently: a user
    without the permission never sees what another user's token could list. It is always
    read with the user's token, even to invoke as the app: faasUI refuses app tokens. A
    refusal is kept as long as a list, so a refused user does not ask faasUI on every page.
    """
    registry = current_app.extensions["faas_clients"]
    key = session["token_key"]
    with registry.lock:
        listed = registry.listed.get("functions")
        may_list = key in registry.may_list
        refused = registry.refused.get(key)
    if refused is not None:
        raise refused.with_traceback(None)
    try:
        if listed is not None:
            if not may_list:
                # Ask faasUI whether this user may list, with a name nothing has: an empty
                # answer proves it as well as the whole (megabytes) list would.
                call(
                    "faasUI",
                    lambda faas: faas.list_functions(name=str(uuid.uuid4())),
                    user_client,
                )
                with registry.lock:
                    registry.may_list[key] = True
            return listed
        found = call("faasUI", lambda faas: faas.list_functions(), user_client)
    except FaaSDetailedError as error:
        if error.status in LISTING_REFUSALS:
            with registry.lock:
                registry.refused[key] = error
        raise
    with registry.lock:
        registry.listed["functions"] = found
        registry.may_list[key] = True
    return found


def log_call(metric):
    """Log one line per upstream call, and count it; never a token."""
    metrics.record_call(metric)
    log.info(
        "upstream op=%s status=%s ms=%.1f error=%s cached=%s uuid=%s event=%s request_id=%s "
        "user=%s",
        metric.operation,
        metric.status,
        metric.duration_ms,
        metric.error,
        metric.from_cache,
        metric.uuid,
        metric.event,
        metric.request_id,
        (g.get("user") or {}).get("sub"),
    )
