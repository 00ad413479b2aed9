"""Functions Invoker: sign in to LivePerson and invoke LivePerson Functions on your behalf."""

import os

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config
from app.config import ConfigError
from app.history.userdata import open_userdata
from app.store import open_store
from liveperson_functions.breaker import Breaker
from liveperson_functions.discovery import Resolver
from liveperson_functions.transport import make_session

__all__ = ["ConfigError", "create_app", "instance_folder"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def instance_folder():
    """Return this instance's writable folder: INSTANCE_PATH, else instance/ beside app/."""
    return os.environ.get("INSTANCE_PATH") or os.path.join(ROOT, "instance")


def create_app(overrides=None, instance_path=None):
    """Create the app from the environment, with `overrides` (tests) applied on top."""
    # templates/ and static/ live at the repository top level, beside app/.
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=instance_path or instance_folder(),
    )
    app.config.update(config.from_environ(os.environ))
    app.config.update(overrides or {})
    config.finalize(app.config, app.instance_path)

    app.extensions["store"] = store = open_store(app.config, app.instance_path)
    app.extensions["userdata"] = open_userdata(store, app.instance_path)
    app.extensions["breakers"] = breakers = {
        name: Breaker(name) for name in ("csds", "sentinel", "faasGW", "faasUI")
    }
    app.extensions["resolver"] = Resolver(
        app.config["LP_ACCOUNT_ID"],
        app.config["LP_CSDS_URL"],
        overrides=app.config["LP_DOMAINS"],
        insecure_http=app.config["LP_INSECURE_HTTP"],
        region=app.config.get("LP_REGION"),
        platform=app.config.get("LP_PLATFORM"),
        breaker=breakers["csds"],
        http=make_session(pool_size=4, trust_env=config.UPSTREAM_TRUST_ENV),
    )

    from app import admin
    from app import errors
    from app import headers
    from app import health
    from app import logs
    from app import metrics
    from app import sessions
    from app import views
    from app import workspace
    from app.audit import views as audit
    from app.auth import flow
    from app.auth import views as auth
    from app.console import as_app
    from app.console import gateway
    from app.console import views as console
    from app.history import compare
    from app.history import views as history
    from app.suites import views as suites
    from liveperson_functions.cli import faas

    logs.init_app(app)
    sessions.init_app(app, store)
    CSRFProtect(app)
    headers.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    gateway.init_app(app)
    as_app.init_app(app)
    flow.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(admin.bp)
    suites.init_app(app)
    audit.init_app(app)
    workspace.init_app(app)
    app.cli.add_command(faas)
    if app.config["LP_PROXY_HOPS"]:
        hops = app.config["LP_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app
