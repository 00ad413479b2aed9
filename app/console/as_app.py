"""Invoke as the app (client credentials) instead of as the signed-in user: admins only."""

from flask import abort
from flask import current_app
from flask import g

from app.audit import record

FIELD = "invoke_as"


def init_app(app):
    app.jinja_env.globals["as_app_offered"] = offered


def offered():
    """Tell whether the signed-in user may choose to invoke as the app."""
    config = current_app.config
    return bool(config.get("LP_APP_CLIENT_ID") and (g.get("user") or {}).get("is_admin"))


def choose(form):
    """Read the choice from a posted invoke form; refuse it from anyone but an admin."""
    wanted = form.get(FIELD, "user")
    if wanted == "app" and not offered():
        record.refused("invoking as the app")
        abort(403)
    if wanted not in ("user", "app"):
        abort(403)
    g.faas_as_app = wanted == "app"


def chosen():
    return bool(g.get("faas_as_app"))
