import pytest

from tests.support import Browser
from tests.support import RedisServer
from tests.support import Served
from tests.support import build_app
from tests.support import start_sandbox


@pytest.fixture
def sandbox_settings():
    """Override in a test module to change the sandbox (e.g. a short token lifetime)."""
    return {}


@pytest.fixture
def app_overrides():
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def served_app():
    served = Served("127.0.0.1")
    yield served
    served.stop()


@pytest.fixture
def sandbox(served_app, sandbox_settings):
    served = start_sandbox([f"{served_app.url}/callback"], **sandbox_settings)
    yield served
    served.stop()


@pytest.fixture
def app(sandbox, served_app, tmp_path, app_overrides):
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path, **app_overrides)
    served_app.start(flask_app)
    return served_app


@pytest.fixture
def browser():
    with Browser() as session:
        yield session


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on a free loopback port, for the whole test session."""
    server = RedisServer()
    yield server.url
    server.stop()


@pytest.fixture(params=["filesystem", "redis"])
def either_store(request):
    """App settings for each session backend, so a suite runs on both."""
    if request.param == "redis":
        return {"SESSION_BACKEND": "redis", "REDIS_URL": request.getfixturevalue("redis_url")}
    return {}
