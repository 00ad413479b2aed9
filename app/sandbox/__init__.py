"""A faithful local LivePerson: CSDS, Sentinel, agentVep, the gateway and faasUI."""

import os
import secrets
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from flask import Flask
from flask import jsonify
from flask import render_template

from .directory import DEFAULT_REDIRECT_URIS
from .directory import USERS
from .directory import Directory
from .state import State

ACCOUNT_ID = "12345678"
SERVICES = ("sentinel", "faasGW", "faasUI", "agentVep")


@dataclass
class Settings:
    """How the sandbox behaves; `from_env` reads the SANDBOX_* variables."""

    url: str = "http://localhost:8001"
    account_id: str = ACCOUNT_ID
    token_lifetime: int = 1800
    app_token_lifetime: int = 3600
    redirect_uris: tuple = DEFAULT_REDIRECT_URIS
    service_domains: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ, url=None):
        """Build settings from SANDBOX_* variables, with `url` the address it serves."""
        extra = tuple(filter(None, environ.get("SANDBOX_REDIRECT_URIS", "").split(",")))
        return cls(
            url=url or environ.get("SANDBOX_URL", cls.url),
            token_lifetime=int(environ.get("SANDBOX_TOKEN_LIFETIME", cls.token_lifetime)),
            app_token_lifetime=int(
                environ.get("SANDBOX_APP_TOKEN_LIFETIME", cls.app_token_lifetime)
            ),
            redirect_uris=DEFAULT_REDIRECT_URIS + extra,
        )

    def domains(self):
        """Return the bare host[:port] CSDS advertises for each service."""
        here = urlsplit(self.url).netloc
        return {name: self.service_domains.get(name, here) for name in SERVICES}


@dataclass
class Sandbox:
    """The sandbox's settings, directory and state, kept in `app.extensions`."""

    settings: Settings
    directory: Directory
    state: State


def create_sandbox(settings=None):
    """Create the sandbox's Flask app."""
    settings = settings or Settings.from_env(os.environ)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        # Its own cookie name: cookies ignore ports, and the app may share the host name.
        SESSION_COOKIE_NAME="sandbox_session",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    directory = Directory(settings.redirect_uris)
    app.extensions["sandbox"] = Sandbox(settings, directory, State(settings.account_id, directory))

    from . import agentvep
    from . import csds
    from . import sentinel

    sentinel.init_app(app)
    app.register_blueprint(csds.bp)
    app.register_blueprint(agentvep.bp)

    @app.get("/")
    def index():
        """Describe the sandbox, its users and clients."""
        return render_template("sandbox/index.html", settings=settings, users=USERS)

    @app.get("/_sandbox/calls")
    def calls():
        """Count the calls each endpoint received (for tests and benchmarks)."""
        return jsonify(app.extensions["sandbox"].state.calls)

    return app
