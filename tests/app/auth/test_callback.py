"""The callback's fixed order: error, state, code, one exchange (reference §5.1)."""

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.support import callback
from tests.support import calls
from tests.support import captured_callback
from tests.support import signed_in
from tests.support import visible_text


@pytest.fixture
def app_overrides(either_store):
    """Run this suite on the file store and on Redis."""
    return either_store


def start(browser, app):
    """Begin a sign-in; return the state the app sent to Sentinel."""
    response = browser.get(f"{app.url}/login", allow_redirects=False)
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


@pytest.mark.parametrize(
    "query",
    [
        {"code": "X", "state": "forged-state-value"},
        {"code": "X"},
        {"code": "X", "state": "a" * 10_000},
        {"code": "X", "state": "x\r\ny\x00z\u202e"},
    ],
    ids=["forged", "missing", "10kB", "control-chars"],
)
def test_bad_state_is_refused_without_a_token_call(app, sandbox, browser, query):
    start(browser, app)
    response = callback(browser, app, query)
    assert response.status_code == 400
    assert "Sign-in expired" in visible_text(response)
    assert calls(sandbox, "token") == 0
    assert not signed_in(browser, app)


def test_duplicated_parameters_are_refused(app, sandbox, browser):
    state = start(browser, app)
    response = browser.get(f"{app.url}/callback?state={state}&state=b&code=x&code=y")
    assert response.status_code == 400
    assert calls(sandbox, "token") == 0


def test_state_from_another_browser_is_refused(app, sandbox, browser):
    from tests.support import Browser

    attacker = Browser()
    state = start(attacker, app)
    start(browser, app)
    response = callback(browser, app, {"code": "X", "state": state})
    assert response.status_code == 400 and calls(sandbox, "token") == 0


def test_replayed_callback_makes_no_second_exchange(app, sandbox, browser):
    url = captured_callback(browser, app)
    first = browser.get(url)
    assert "Signed in" in first.text
    # A signed-in browser replaying it (Back) is sent home, without a second exchange.
    replay = browser.get(url)
    assert replay.status_code == 200 and replay.url == f"{app.url}/"
    assert calls(sandbox, "token") == 1
    assert signed_in(browser, app)


def test_missing_code_consumes_the_state(app, sandbox, browser):
    state = start(browser, app)
    response = callback(browser, app, {"state": state})
    assert response.status_code == 400 and "Sign-in failed" in response.text
    again = callback(browser, app, {"state": state, "code": "X"})
    assert "Sign-in expired" in again.text
    assert calls(sandbox, "token") == 0


def test_error_with_valid_state_is_a_cancel_and_consumes_it(app, sandbox, browser):
    state = start(browser, app)
    response = callback(browser, app, {"error": "access_denied", "state": state})
    assert response.status_code == 200 and "Sign-in cancelled" in response.text
    assert "Sign-in expired" in callback(browser, app, {"code": "X", "state": state}).text
    assert calls(sandbox, "token") == 0


def test_error_with_forged_state_leaves_the_real_one(app, sandbox, browser):
    url = captured_callback(browser, app)
    response = callback(browser, app, {"error": "access_denied", "state": "forged"})
    assert response.status_code == 400
    assert "Signed in" in browser.get(url).text


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable"])
def test_transient_errors_say_service_unavailable(app, browser, error):
    state = start(browser, app)
    response = callback(browser, app, {"error": error, "state": state})
    assert response.status_code == 503
    assert "Sign-in service unavailable" in response.text


def test_error_text_from_the_server_is_never_rendered(app, browser):
    state = start(browser, app)
    response = callback(
        browser,
        app,
        {
            "error": "access_denied",
            "state": state,
            "error_description": "<script>alert(1)</script>",
            "error_uri": "javascript:alert(1)",
        },
    )
    assert "<script>alert(1)" not in response.text
    assert "javascript:" not in response.text
    assert "Sign-in cancelled" in response.text


def test_code_and_error_together_count_as_error(app, sandbox, browser):
    state = start(browser, app)
    response = callback(browser, app, {"error": "access_denied", "code": "X", "state": state})
    assert "Sign-in cancelled" in response.text
    assert calls(sandbox, "token") == 0


def test_refused_code_says_sign_in_failed(app, sandbox, browser):
    state = start(browser, app)
    response = callback(browser, app, {"code": "not-a-real-code", "state": state})
    assert response.status_code == 400 and "Sign-in failed" in response.text
    assert calls(sandbox, "token") == 1
    assert not signed_in(browser, app)


def test_post_to_callback_is_not_allowed(app, browser):
    assert browser.post(f"{app.url}/callback", data={"code": "X"}).status_code in (400, 405)


def test_callback_without_session_cookie_is_refused(app, sandbox, browser):
    url = captured_callback(browser, app)
    browser.cookies.clear(domain="127.0.0.1")
    response = browser.get(url, allow_redirects=False)
    assert response.status_code == 400
    assert calls(sandbox, "token") == 0
