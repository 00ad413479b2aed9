"""Two hosts of one deployment on one Redis see the same shared items."""

import pytest
import redis

from tests.app.workspace.conftest import signed_in
from tests.app.workspace.test_shared import share_payload
from tests.support import Served
from tests.support import build_app
from tests.support import visible_text


@pytest.fixture
def app_overrides(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    return {"SESSION_BACKEND": "redis", "REDIS_URL": redis_url}


@pytest.fixture
def second_host(app, sandbox, tmp_path, app_overrides):
    """Another host of the same deployment: its own folder, the same Redis and account."""
    served = Served("127.0.0.1")
    client = sandbox.app.extensions["sandbox"].directory.clients["functions-invoker"]
    client.redirect_uris += (f"{served.url}/callback",)
    callback = f"{served.url}/callback"
    served.start(build_app(sandbox, callback, tmp_path / "host2", **app_overrides))
    yield served
    served.stop()


def test_a_payload_shared_on_one_host_is_seen_and_guarded_on_the_other(app, agent, second_host):
    item = share_payload(agent, app)

    with signed_in(second_host, "developer") as developer:
        listing = developer.get(f"{second_host.url}/payloads")
        page = developer.get(f"{second_host.url}/shared/payloads/{item}")

    assert f"/shared/payloads/{item}" in listing.text
    assert "Only agent and the account's administrators may change" in visible_text(page)
