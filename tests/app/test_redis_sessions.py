"""Signing in with sessions and token records in a real Redis (many hosts share it)."""

import pytest

from tests.support import Browser
from tests.support import build_app
from tests.support import calls


@pytest.fixture
def app_overrides(redis_url):
    return {"SESSION_BACKEND": "redis", "REDIS_URL": redis_url}


def test_sign_in_and_out_with_redis(app, sandbox, browser, redis_url):
    import redis

    home = browser.sign_in(app.url)
    assert "Signed in" in home.text and calls(sandbox, "token") == 1
    keys = {k.decode() for k in redis.Redis.from_url(redis_url).keys("*")}
    assert any(k.startswith("session:") for k in keys)
    assert any(k.startswith("token:") for k in keys)
    browser.form_post(home, {}, action="/logout")
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


def test_a_second_host_serves_the_same_user(app, sandbox, browser, tmp_path, redis_url):
    from tests.support import Served

    other = Served("127.0.0.1")
    other_app = build_app(
        sandbox,
        f"{app.url}/callback",
        tmp_path / "other-host",
        SESSION_BACKEND="redis",
        REDIS_URL=redis_url,
    )
    other.start(other_app)
    try:
        browser.sign_in(app.url)
        cookie = browser.cookies.get("invoker_session")
        second = Browser()
        second.cookies.set("invoker_session", cookie, domain="127.0.0.1", path="/")
        assert "Signed in" in second.get(f"{other.url}/").text
    finally:
        other.stop()
