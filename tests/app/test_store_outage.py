"""Redis down or black-holed: a quick 503 with Retry-After, health still answers, and the
service comes back by itself when Redis does."""

import pytest

from tests.support import PATIENCE
from tests.support import Browser
from tests.support import RedisServer
from tests.support import build_app
from tests.support import visible_text

# Generous client limits: an app that hangs on the store fails here instead of hanging CI.


@pytest.fixture
def own_redis():
    server = RedisServer()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_redis_down_then_back(served_app, sandbox, tmp_path, own_redis):
    flask_app = build_app(
        sandbox,
        f"{served_app.url}/callback",
        tmp_path,
        SESSION_BACKEND="redis",
        REDIS_URL=own_redis.url,
    )
    served_app.start(flask_app)
    browser = Browser()
    browser.sign_in(served_app.url)
    own_redis.stop()

    page = browser.get(f"{served_app.url}/", timeout=PATIENCE)
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    assert "session store is unavailable" in visible_text(page)
    assert "Traceback" not in page.text
    assert "Set-Cookie" not in page.headers  # never a replacement cookie over the user's own
    assert browser.get(f"{served_app.url}/healthz", timeout=PATIENCE).status_code == 200
    assert browser.get(f"{served_app.url}/static/style.css", timeout=PATIENCE).status_code == 200
    ready = browser.get(f"{served_app.url}/readyz", timeout=PATIENCE)
    assert ready.status_code == 503 and ready.json()["store"] == "failing"

    # The same address, empty: the sessions were lost with it.
    revived = RedisServer(port=own_redis.port)
    own_redis.process = revived.process
    again = browser.get(f"{served_app.url}/", timeout=PATIENCE)
    assert again.status_code == 200
    assert "Sign in with LivePerson" in again.text
    assert "Signed in" in browser.sign_in(served_app.url).text
    assert browser.get(f"{served_app.url}/readyz").status_code == 200
