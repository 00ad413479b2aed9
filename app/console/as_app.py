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


def choose(posted, form):
    """Read the choice from a posted invoke form (a bad one is an error of the checked
    `form`); refuse the app to anyone but an admin."""
    wanted = posted.get(FIELD, "user")
    if wanted not in ("user", "app"):
        form.errors[FIELD] = "Invoke as yourself or as the app: invoke_as is user or app."
        wanted = "user"
    elif wanted == "app" and not offered():
        record.refused("invoking as the app")
        abort(403)
    g.faas_as_app = wanted == "app"


def chosen():
    return bool(g.get("faas_as_app"))
