"""Which documented events the account implements: asked of the gateway side by side, by a
small pool of threads, and cached by each user's client for 60 s as the official clients do."""

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait

from flask import current_app
from flask import session

from app.auth import tokens
from app.console import as_app
from app.console import gateway
from liveperson_functions.breaker import CircuitOpen
from liveperson_functions.errors import FaaSError

# Four calls at a time per worker: a page of 15 events costs about four round trips, and a
# slow gateway cannot take more than four threads from a worker.
POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="is-implemented")
# How long the page waits; slower answers still land in the client's cache for the next view.
PATIENCE = 5


def check(event_ids):
    """Return {event id: True, False, or None when the gateway could not tell in time}."""
    app = current_app._get_current_object()
    client = gateway.client()
    if not as_app.chosen():
        # Renew a due token here, once, rather than in four threads at the same moment.
        tokens.current(session["token_key"])
    futures = {event_id: POOL.submit(ask, app, client, event_id) for event_id in event_ids}
    wait(futures.values(), timeout=PATIENCE)
    return {
        event_id: future.result() if future.done() else None
        for event_id, future in futures.items()
    }


def ask(app, client, event_id):
    """Ask through the gateway's circuit breaker; a failure means "unknown", not an error page."""
    with app.app_context():
        breaker = app.extensions["breakers"]["faasGW"]
        try:
            breaker.allow()
        except CircuitOpen:
            return None
        try:
            return gateway.settle(breaker, lambda: client.is_implemented(event_id))
        except (FaaSError, tokens.SignInRequired, tokens.RefreshFailed):
            return None
