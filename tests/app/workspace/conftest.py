"""Two users and an admin on one account, a user of another account on the same store."""

import pytest
import redis

from tests.support import Browser
from tests.support import Served
from tests.support import build_app
from tests.support import start_sandbox

OTHER_ACCOUNT = "other-account-7"


@pytest.fixture
def app_overrides(either_store):
    if "REDIS_URL" in either_store:
        # One redis-server serves the whole test session: start from an empty one.
        redis.Redis.from_url(either_store["REDIS_URL"]).flushdb()
    return either_store


@pytest.fixture
def other(app, tmp_path, app_overrides):
    """The app of another account, on the same store (the same folder, or the same Redis)."""
    served = Served("127.0.0.1")
    sandbox = start_sandbox([f"{served.url}/callback"], account_id=OTHER_ACCOUNT)
    overrides = {**app_overrides, "LP_ACCOUNT_ID": OTHER_ACCOUNT}
    served.start(build_app(sandbox, f"{served.url}/callback", tmp_path, **overrides))
    yield served
    served.stop()
    sandbox.stop()


def signed_in(app, user):
    browser = Browser()
    browser.sign_in(app.url, user)
    return browser


def user(login):
    """A fixture: a browser signed in to the app as `login`."""

    @pytest.fixture(name=login)
    def browser(app):
        with signed_in(app, login) as signed:
            yield signed

    return browser


agent, developer, admin = user("agent"), user("developer"), user("admin")


@pytest.fixture
def outsider(other):
    """The same login name and user id, on another account."""
    with signed_in(other, "agent") as browser:
        yield browser
