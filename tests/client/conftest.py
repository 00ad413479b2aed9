"""Fixtures for the Functions client tests: fake LivePerson servers, tidy clients, an install."""

import os
import subprocess
import sys

import pytest

from liveperson_functions import core
from liveperson_functions.auth import UserBearer
from liveperson_functions.client import FunctionsClient
from tests.support import ROOT

from .fakes import ACCOUNT
from .fakes import FakeLivePerson
from .fakes import RawServer
from .fakes import resolver_for


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Keep retry backoff tiny so retry tests stay fast; the policy's shape is unchanged."""
    monkeypatch.setattr(core, "DEFAULT_RETRIES", core.Retries(backoff=0.01, jitter=0.01))


@pytest.fixture
def fake():
    server = FakeLivePerson()
    yield server
    server.close()


@pytest.fixture
def raw_server():
    """Start socket servers that stall or hang up (see RawServer), closed after the test."""
    servers = []

    def start(mode):
        server = RawServer(mode)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def make_client():
    """Build FunctionsClients against local servers and close them after the test."""
    clients = []

    def build(gw, ui=None, sentinel=None, auth=None, **kwargs):
        resolver = kwargs.pop("resolver", None) or resolver_for(gw, ui, sentinel)
        client = FunctionsClient(
            ACCOUNT, auth or UserBearer(lambda: "user-token"), resolver, **kwargs
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """The bin folder of a fresh virtualenv holding `pip install .`: the client as users get it."""
    home = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=120)
    # With the async extra, and the requests stubs the README's examples need under mypy.
    stubs = [line for line in DEV_PINS if line.startswith("types-requests==")]
    done = subprocess.run(
        [home / "bin" / "python", "-m", "pip", "install", "--quiet", f"{ROOT}[async]", *stubs],
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return home / "bin"


DEV_PINS = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()


def outside_env(**extra):
    """The environment of a shell outside the repository: no PYTHONPATH, no LP_* settings."""
    drop = ("LP_", "SANDBOX_", "FLASK_", "PYTHON")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    return {**env, **extra}
