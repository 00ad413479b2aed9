"""Invoke as the app (client credentials) instead of as the signed-in user: admins only."""

import threading

from flask import abort
from flask import current_app
from flask import g

from liveperson_functions.auth import ClientCredentials
from liveperson_functions.client import FunctionsClient
from liveperson_functions.transport import make_session

FIELD = "invoke_as"
lock = threading.Lock()


def init_app(app):
    app.jinja_env.globals["as_app_offered"] = offered


def offered():
    """Tell whether the signed-in user may choose to invoke as the app."""
    config = current_app.config
    return bool(config.get("LP_APP_CLIENT_ID") and (g.get("user") or {}).get("is_admin"))


def choose(form):
    """Read the choice from a posted invoke form; refuse it from anyone but an admin."""
    wanted = form.get(FIELD, "user")
    if wanted not in ("user", "app") or (wanted == "app" and not offered()):
        abort(403)
    g.faas_as_app = wanted == "app"


def chosen():
    return bool(g.get("faas_as_app"))


def client():
    """Return this worker's client acting as the app; its token is fetched and kept here."""
    from app.console import gateway  # gateway imports this module

    app = current_app._get_current_object()
    with lock:
        found = app.extensions.get("faas_app_client")
        if found is None:
            # Built lazily, so each gunicorn worker opens its own pool after fork.
            config, http = app.config, make_session()
            resolver = app.extensions["resolver"]
            auth = ClientCredentials(
                config["LP_APP_CLIENT_ID"],
                config["LP_APP_CLIENT_SECRET"],
                resolver,
                config["LP_ACCOUNT_ID"],
                session=http,
            )
            found = FunctionsClient(
                config["LP_ACCOUNT_ID"],
                auth,
                resolver,
                platform=config.get("LP_PLATFORM"),
                event_source=gateway.EVENT_SOURCE,
                metrics=gateway.log_call,
                session=http,
            )
            app.extensions["faas_app_client"] = found
        return found
