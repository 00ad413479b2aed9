"""Sessions that end stay ended; idle and absolute limits; nothing typed is lost."""

import threading
import time

import pytest

from sandbox import functions as demo
from tests.support import calls
from tests.support import visible_text


@pytest.fixture
def app_overrides(either_store):
    return either_store


def age_session(served_app, browser, seconds):
    """Make the stored session look `seconds` older, as if time had passed."""
    store = served_app.app.extensions["store"]
    key = "session:" + browser.cookies.get("invoker_session")
    data = store.get(key)
    data["last_seen"] -= seconds
    store.set(key, data, 3600)


class TestLogoutStaysEnded:
    @pytest.fixture
    def sandbox_settings(self):
        return {"execution_limit": 1.5}

    def test_slow_request_cannot_undo_logout(self, app, sandbox, browser):
        home = browser.sign_in(app.url)
        cookie = browser.cookies.get("invoker_session")
        page = browser.get(f"{app.url}/functions/{demo.SLOW}")
        # An old last_seen makes the slow request write the session when it ends.
        age_session(app, browser, 120)
        slow = threading.Thread(
            target=browser.with_cookie("invoker_session", cookie).form_post,
            args=(page, {"payload": "{}"}),
            kwargs={"action": f"/functions/{demo.SLOW}"},
        )
        slow.start()
        while calls(sandbox, "invoke") == 0:
            time.sleep(0.01)
        browser.form_post(home, {}, action="/logout")
        slow.join()
        replay = browser.with_cookie("invoker_session", cookie).get(f"{app.url}/")
        assert replay.status_code == 200
        assert "Sign in with LivePerson" in replay.text


class TestIdleTimeout:
    @pytest.fixture
    def app_overrides(self):
        return {"LP_IDLE_TIMEOUT": "1"}

    def test_idle_session_ends(self, app, browser):
        browser.sign_in(app.url)
        time.sleep(1.2)
        page = browser.get(f"{app.url}/")
        assert "Your session timed out" in page.text
        assert "Sign in with LivePerson" in page.text

    def test_form_sent_after_idle_timeout_comes_back_after_sign_in(self, app, sandbox, browser):
        browser.sign_in(app.url)
        page = browser.get(f"{app.url}/functions/{demo.ECHO}")
        time.sleep(1.2)
        typed = '{"typed": "before the timeout"}'
        back = browser.form_post(
            page,
            {"payload": typed, "header_name": "X-Kept", "header_value": "yes"},
            action=f"/functions/{demo.ECHO}",
        )
        # Sentinel still knows the browser: one click continues as the same user.
        assert "Continue as agent" in visible_text(back)
        back = browser.form_post(back, {}, submit="continue")
        assert back.url == f"{app.url}/functions/{demo.ECHO}"
        assert "What you typed is back" in back.text
        assert "{&#34;typed&#34;: &#34;before the timeout&#34;}" in back.text
        assert 'value="X-Kept"' in back.text
        assert calls(sandbox, "invoke") == 0


class TestAbsoluteTimeout:
    @pytest.fixture
    def app_overrides(self):
        return {"LP_MAX_SESSION": "2"}

    def test_session_ends_after_the_absolute_limit(self, app, browser):
        browser.sign_in(app.url)
        assert "Signed in" in browser.get(f"{app.url}/").text
        time.sleep(2.2)
        assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


class TestRevokedGrant:
    @pytest.fixture
    def sandbox_settings(self):
        return {"token_lifetime": 2}

    def test_form_sent_after_revocation_comes_back(self, app, sandbox, browser):
        browser.sign_in(app.url)
        page = browser.get(f"{app.url}/functions/{demo.ECHO}")
        state = sandbox.app.extensions["sandbox"].state
        for grant in list(state.grants.values()):
            state.revoke(grant)
        time.sleep(2.1)
        typed = '{"after": "revoke"}'
        refused = browser.form_post(page, {"payload": typed}, action=f"/functions/{demo.ECHO}")
        assert refused.status_code == 401
        assert "What you typed will be back" in visible_text(refused)
        # Sentinel's sign-in page again (the revoke ended the sandbox's SSO for this grant).
        again = browser.get(f"{app.url}/login", params={"next": f"/functions/{demo.ECHO}"})
        if 'name="username"' in again.text:
            again = browser.form_post(again, {"username": "agent", "password": "agent"})
        assert again.url == f"{app.url}/functions/{demo.ECHO}"
        assert "{&#34;after&#34;: &#34;revoke&#34;}" in again.text
        assert calls(sandbox, "invoke") == 0
