"""A faithful local LivePerson: CSDS, Sentinel, agentVep, the gateway and faasUI.

Dialect: `dialect` makes the gateway and faasUI speak Functions V1 or V2 (error bodies, list
path, event-source header). The official clients tell V2 by a host name containing
`fninvocations` or `functions`, but such names (e.g. `fninvocations.localhost`) do not resolve
on an ordinary machine, so CSDS advertises the sandbox's own address in both dialects: clients
must be told the platform (the app's client takes `platform="v2"`).
"""

import os
import random
import secrets
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from flask import Flask
from flask import jsonify
from flask import render_template

from liveperson_functions.env import SANDBOX_ACCOUNT

from .catalogue import Catalogue
from .directory import DEFAULT_REDIRECT_URIS
from .directory import USERS
from .directory import Directory
from .functions import catalogue
from .ratelimit import RateLimiter
from .state import State

# The demo account lives with the client, whose CLI and app default to this sandbox.
ACCOUNT_ID = SANDBOX_ACCOUNT

SERVICES = ("sentinel", "faasGW", "faasUI", "agentVep")
DIALECTS = ("v1", "v2")
CLIENT_AUTH_MODES = ("basic", "post", "both")
# What a user token answer holds. "documented": the Token API page's repository copy, no
# expires_in and an id_token at sign-in only; "expires-in": the live Token Request page's
# expires_in, and a new id_token with every refresh, as a standard OpenID provider sends.
TOKEN_SHAPES = ("documented", "expires-in")
ID_TOKEN_LIFETIME = 600  # Sentinel's documented id_token lives 600 s (token request example)


@dataclass
class Settings:
    """How the sandbox behaves; `from_env` reads the SANDBOX_* variables."""

    url: str = "http://localhost:8001"
    account_id: str = ACCOUNT_ID
    token_lifetime: int = 1800
    # None: the documented 600 s, or the access token's lifetime when that is shorter.
    id_token_lifetime: int | None = None
    app_token_lifetime: int = 3600
    token_shape: str = "documented"
    # How Sentinel's user-token endpoints (token, revoke) accept client credentials.
    client_auth: str = "basic"
    redirect_uris: tuple = DEFAULT_REDIRECT_URIS
    service_domains: dict = field(default_factory=dict)
    dialect: str = "v1"
    execution_limit: float = 30.0  # seconds a function may run (the platform's limit)
    rate_limit: int = 50  # invocations per second per account
    flaky_share: float = 0.5  # share of the flaky function's invocations that get a 502
    extra_functions: int = 0  # generated filler functions, for benchmarks

    def __post_init__(self):
        if self.client_auth not in CLIENT_AUTH_MODES:
            raise ValueError(
                f"SANDBOX_CLIENT_AUTH must be basic, post or both, not {self.client_auth!r}"
            )
        if self.token_shape not in TOKEN_SHAPES:
            raise ValueError(
                f"SANDBOX_TOKEN_SHAPE must be documented or expires-in, not {self.token_shape!r}"
            )
        if self.id_token_lifetime is None:
            self.id_token_lifetime = min(ID_TOKEN_LIFETIME, self.token_lifetime)
        if self.dialect not in DIALECTS:
            raise ValueError(f"SANDBOX_DIALECT must be v1 or v2, not {self.dialect!r}")
        if not self.execution_limit > 0:
            raise ValueError("SANDBOX_EXECUTION_LIMIT must be a positive number of seconds")
        if self.rate_limit < 1:
            raise ValueError("SANDBOX_RATE_LIMIT must be at least 1 invocation per second")
        if not 0.0 <= self.flaky_share <= 1.0:
            raise ValueError("SANDBOX_FLAKY_SHARE must be between 0.0 and 1.0")
        if self.extra_functions < 0:
            raise ValueError("SANDBOX_EXTRA_FUNCTIONS must not be negative")

    @classmethod
    def from_env(cls, environ, url=None, **overrides):
        """Build settings from SANDBOX_* variables, with `url` the address it serves."""
        extra = tuple(filter(None, environ.get("SANDBOX_REDIRECT_URIS", "").split(",")))

        def read(name, kind, default):
            return kind(environ.get(f"SANDBOX_{name}", default))

        settings = {
            "url": url or environ.get("SANDBOX_URL", cls.url),
            "token_lifetime": read("TOKEN_LIFETIME", int, cls.token_lifetime),
            "app_token_lifetime": read("APP_TOKEN_LIFETIME", int, cls.app_token_lifetime),
            "client_auth": read("CLIENT_AUTH", str, cls.client_auth).lower(),
            "token_shape": read("TOKEN_SHAPE", str, cls.token_shape).lower(),
            "redirect_uris": DEFAULT_REDIRECT_URIS + extra,
            "dialect": read("DIALECT", str, cls.dialect).lower(),
            "execution_limit": read("EXECUTION_LIMIT", float, cls.execution_limit),
            "rate_limit": read("RATE_LIMIT", int, cls.rate_limit),
            "flaky_share": read("FLAKY_SHARE", float, cls.flaky_share),
            "extra_functions": read("EXTRA_FUNCTIONS", int, cls.extra_functions),
        }
        if environ.get("SANDBOX_ID_TOKEN_LIFETIME"):
            settings["id_token_lifetime"] = read("ID_TOKEN_LIFETIME", int, None)
        return cls(**{**settings, **overrides})

    def domains(self):
        """Return the bare host[:port] CSDS advertises for each service."""
        here = urlsplit(self.url).netloc
        return {name: self.service_domains.get(name, here) for name in SERVICES}


@dataclass
class Sandbox:
    """The sandbox's settings, directory, state and functions, kept in `app.extensions`."""

    settings: Settings
    directory: Directory
    state: State
    catalogue: Catalogue
    limiter: RateLimiter
    rng: random.Random


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
    app.extensions["sandbox"] = Sandbox(
        settings,
        directory,
        State(settings.account_id, directory),
        catalogue(settings.extra_functions),
        RateLimiter(settings.rate_limit),
        random.Random(),
    )

    from . import agentvep
    from . import csds
    from . import faasui
    from . import gateway
    from . import sentinel

    sentinel.init_app(app)
    app.register_blueprint(csds.bp)
    app.register_blueprint(agentvep.bp)
    app.register_blueprint(gateway.bp)
    app.register_blueprint(faasui.bp)

    @app.get("/")
    def index():
        """Describe the sandbox, its users, clients and functions."""
        catalogue = app.extensions["sandbox"].catalogue
        return render_template(
            "sandbox/index.html", settings=settings, users=USERS, functions=catalogue.functions
        )

    @app.get("/_sandbox/calls")
    def calls():
        """Count the calls each endpoint received (for tests and benchmarks)."""
        return jsonify(app.extensions["sandbox"].state.calls)

    return app
