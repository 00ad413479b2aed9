"""Fixtures for the Functions client tests: fake LivePerson servers and tidy clients."""

import pytest

from liveperson_functions import transport
from liveperson_functions.auth import UserBearer
from liveperson_functions.client import FunctionsClient

from .fakes import ACCOUNT
from .fakes import FakeLivePerson
from .fakes import resolver_for


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Keep retry backoff tiny so retry tests stay fast; the policy's shape is unchanged."""
    monkeypatch.setattr(transport, "BACKOFF_FACTOR", 0.01)
    monkeypatch.setattr(transport, "BACKOFF_JITTER", 0.01)


@pytest.fixture
def fake():
    server = FakeLivePerson()
    yield server
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
