"""Signing in and out through the sandbox's Sentinel, over real HTTP."""

import time
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from sandbox import ACCOUNT_ID
from tests.support import calls
from tests.support import sandbox_log
from tests.support import visible_text


@pytest.fixture
def app_overrides(either_store):
    """Run this suite on the file store and on Redis."""
    return either_store


def test_sign_in_shows_who_and_where(app, sandbox, browser):
    page = browser.sign_in(app.url, "agent")
    text = visible_text(page)
    assert page.status_code == 200 and page.url == f"{app.url}/"
    assert "User id 4000001" in text
    assert "Login name agent" in text
    assert "Administrator no" in text
    assert f"Account {ACCOUNT_ID}" in text
    assert f"Sentinel localhost:{sandbox.port}" in text
    assert "Next refresh in" in text
    assert calls(sandbox, "token") == 1


def test_admin_is_shown_as_admin(app, browser):
    text = visible_text(browser.sign_in(app.url, "admin"))
    assert "Login name admin" in text and "Administrator yes" in text


def test_wrong_password_stays_on_sentinel(app, sandbox, browser):
    page = browser.sign_in(app.url, "agent", password="nope")
    assert page.status_code == 401
    assert "Wrong user name or password" in page.text
    assert calls(sandbox, "token") == 0


def test_authorize_request_is_sentinels_with_pkce(app, sandbox, browser):
    browser.sign_in(app.url)
    (authorize,) = sandbox_log(sandbox, "authorize")
    assert authorize["v"] == "1.0"
    assert authorize["response_type"] == "code"
    assert authorize["client_id"] == "functions-invoker"
    assert authorize["redirect_uri"] == f"{app.url}/callback"
    assert len(authorize["state"]) >= 20
    assert authorize["code_challenge_method"] == "S256"
    (exchange,) = sandbox_log(sandbox, "token")
    assert exchange["v"] == "2.0"
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == f"{app.url}/callback"
    assert len(exchange["code_verifier"]) >= 43


@pytest.mark.parametrize("app_overrides", [{"LP_PKCE": "0"}])
def test_pkce_can_be_switched_off(app, sandbox, browser):
    assert "Signed in" in browser.sign_in(app.url).text
    (authorize,) = sandbox_log(sandbox, "authorize")
    assert "code_challenge" not in authorize
    assert "code_verifier" not in sandbox_log(sandbox, "token")[0]


def test_redirect_uri_ignores_a_forged_host_header(app, browser):
    # Only LP_REDIRECT_URI's host is trusted when TRUSTED_HOSTS is unset.
    forged = browser.get(f"{app.url}/login", headers={"Host": "evil.test"}, allow_redirects=False)
    assert forged.status_code == 400 and "Location" not in forged.headers
    response = browser.get(
        f"{app.url}/login", headers={"X-Forwarded-Host": "evil.test"}, allow_redirects=False
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{app.url}/callback"]


def test_sign_out_ends_the_session(app, sandbox, browser):
    home = browser.sign_in(app.url)
    old_cookie = browser.cookies.get("invoker_session")
    page = browser.post(f"{app.url}/logout", data={"csrf_token": browser.csrf(home)})
    assert "You are signed out of Functions Invoker" in page.text
    assert "Sign in with LivePerson" in page.text
    replay = browser.with_cookie("invoker_session", old_cookie)
    assert "Sign in with LivePerson" in replay.get(f"{app.url}/").text
    assert calls(sandbox, "revoke") == 0


def test_a_request_in_flight_at_sign_out_cannot_bring_the_session_back(app, browser):
    """It loaded the session before sign-out and saves it afterwards: the copy is refused."""
    browser.sign_in(app.url)
    old_cookie = browser.cookies.get("invoker_session")
    flask_app, cookie = app.app, {"Cookie": f"invoker_session={old_cookie}"}
    with flask_app.test_request_context("/", headers=cookie) as context:
        stale = flask_app.session_interface.open_session(flask_app, context.request)
    assert stale.get("user")
    browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
    stale["last_seen"] = time.time()
    with flask_app.test_request_context("/", headers=cookie):
        flask_app.session_interface.save_session(flask_app, stale, flask_app.response_class())
    replay = browser.with_cookie("invoker_session", old_cookie)
    assert "Sign in with LivePerson" in replay.get(f"{app.url}/").text


def test_sign_out_needs_the_csrf_token(app, browser):
    browser.sign_in(app.url)
    response = browser.post(f"{app.url}/logout")
    assert response.status_code == 400
    assert "Form expired" in response.text
    assert "Signed in" in browser.get(f"{app.url}/").text


def test_logout_is_post_only(app, browser):
    browser.sign_in(app.url)
    assert browser.get(f"{app.url}/logout").status_code == 405
    assert "Signed in" in browser.get(f"{app.url}/").text


def test_cancel_at_sentinel(app, sandbox, browser):
    page = browser.get(f"{app.url}/login")
    page = browser.form_post(page, {}, submit="cancel")
    assert page.status_code == 200
    assert "Sign-in cancelled" in page.text
    assert calls(sandbox, "token") == 0
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


def test_session_id_changes_at_sign_in(app, browser):
    browser.get(f"{app.url}/login", allow_redirects=False)
    before = browser.cookies.get("invoker_session")
    assert before
    browser.sign_in(app.url)
    after = browser.cookies.get("invoker_session")
    assert after and after != before
    assert (
        "Sign in with LivePerson"
        in browser.with_cookie("invoker_session", before).get(f"{app.url}/").text
    )
    # The same replay with the current cookie is signed in: the check above can fail.
    assert "Signed in" in browser.with_cookie("invoker_session", after).get(f"{app.url}/").text


def test_unknown_session_cookie_is_never_adopted(app, browser):
    browser.cookies.set("invoker_session", "attacker-chosen-id", domain="127.0.0.1", path="/")
    response = browser.get(f"{app.url}/login", allow_redirects=False)
    assert response.status_code == 302
    assert browser.cookies.get("invoker_session") != "attacker-chosen-id"


def test_session_cookie_flags(app, browser):
    browser.get(f"{app.url}/login", allow_redirects=False)
    cookie = next(c for c in browser.cookies if c.name == "invoker_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Lax"
    assert cookie.path == "/" and not cookie.domain_specified


def test_tokens_never_reach_the_browser(app, sandbox, browser):
    pages = [browser.sign_in(app.url)]
    pages.append(browser.get(f"{app.url}/"))
    state = sandbox.app.extensions["sandbox"].state
    (grant,) = state.grants.values()
    secrets = [grant.refresh_token, "sandbox-secret", *state.access_tokens]
    for page in pages:
        for response in (*page.history, page):
            seen = response.text + str(response.headers)
            assert not any(secret in seen for secret in secrets)
    assert not any(secret in str(browser.cookies.values()) for secret in secrets)
