"""Demo mode: the flow record, the sequence diagram, the walk-through, the token panel, and
the admins' configuration self-check."""

import re
import time
import xml.etree.ElementTree as ET

import pytest

from app.auth.flow import short
from sandbox import ACCOUNT_ID
from sandbox import functions as demo
from tests.support import calls
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import token_record
from tests.support import visible_text


def svg_of(page):
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    return ET.fromstring(svg)


def done_steps(page):
    ns = "{http://www.w3.org/2000/svg}"
    return {
        g.get("data-step")
        for g in svg_of(page).iter(f"{ns}g")
        if "done" in (g.get("class") or "").split()
    }


def secrets_of(app, browser, sandbox):
    record = token_record(app, browser)
    exchange = sandbox_log(sandbox, "token")[0]
    return {
        "access": record["access_token"],
        "refresh": record["refresh_token"],
        "id": record["id_token"],
        "code": exchange["code"],
        "verifier": exchange["code_verifier"],
        "client secret": "sandbox-secret",
    }


def test_record_shows_each_step_with_the_values_sentinel_received(app, sandbox, browser):
    browser.sign_in(app.url)
    page = browser.get(f"{app.url}/flow")
    text = visible_text(page)
    (authorize,) = sandbox_log(sandbox, "authorize")
    for name in ("v", "response_type", "client_id", "redirect_uri", "state", "code_challenge"):
        assert f"{name} {authorize[name]}" in text, name
    assert "code_challenge_method S256" in text
    assert "✓ state matches step 1" in text
    (exchange,) = sandbox_log(sandbox, "token")
    assert f"code {short(exchange['code'])}" in text
    assert f"code_verifier {short(exchange['code_verifier'])}" in text
    # HTTP Basic by default (Functions' authorization-code guide): no secret in the body.
    assert "Authorization (header) Basic ••••" in text and "client_secret" not in text
    assert exchange["client_auth"] == "basic"
    assert f"redirect_uri {exchange['redirect_uri']}" in text
    assert "grant_type authorization_code" in text
    # Sentinel's access token is opaque, so the expiry comes from the id_token's exp.
    assert "access_token string " in text and "access_token string (JWT)" not in text
    assert "id_token string (JWT)" in text
    assert "No expires_in" in text and "the id token's exp claim" in text
    assert "sub 4000001" in text and "aud functions-invoker" in text and "iss Sentinel" in text
    assert "kid: idtoken-19-08-19" in text
    assert "No refresh yet" in text and "Nothing invoked yet" in text
    assert done_steps(page) == {"authorize", "callback", "token_request", "token_response"}


def test_first_invocation_and_refresh_join_the_record(app, sandbox, browser):
    browser.sign_in(app.url)
    invoke(browser, app, demo.GREETING, '{"name": "Ana"}')
    invoke(browser, app, demo.ECHO)  # only the first one is recorded
    home = browser.get(f"{app.url}/")
    refreshed = browser.form_post(home, {}, action="/token/refresh")
    assert "Refreshed: a new access token, and Sentinel rotated the refresh token" in (
        refreshed.text
    )
    assert "✓ new tokens" in visible_text(refreshed)  # the token panel's last refresh
    page = browser.get(f"{app.url}/flow")
    text = visible_text(page)
    assert f"/api/account/{ACCOUNT_ID}/lambdas/{demo.GREETING}/invoke" in text
    assert "userId=4000001" in text
    assert re.search(r"Authorization Bearer [0-9a-f]{6}…[0-9a-f]{4}", text)
    assert "HTTP 200 (success)" in text
    assert re.search(r"you pressed Refresh now: ✓ new tokens ?; the refresh token rotated", text)
    assert "grant_type=refresh_token" in text
    assert done_steps(page) == {
        "authorize",
        "callback",
        "token_request",
        "token_response",
        "refreshes",
        "first_invocation",
    }


class TestAutomaticRefresh:
    @pytest.fixture
    def sandbox_settings(self):
        return {"token_lifetime": 2}

    def test_an_automatic_refresh_is_recorded(self, app, browser):
        browser.sign_in(app.url)
        time.sleep(2.1)
        browser.get(f"{app.url}/")  # a page that uses the token refreshes it
        text = visible_text(browser.get(f"{app.url}/flow"))
        assert "the access token was about to expire: ✓ new tokens" in text


def test_no_page_reveals_a_whole_secret(app, sandbox, browser):
    pages = [browser.sign_in(app.url)]
    pages.append(invoke(browser, app, demo.ECHO))
    pages += [browser.get(f"{app.url}{p}") for p in ("/", "/flow", "/history")]
    for name, secret in secrets_of(app, browser, sandbox).items():
        for page in pages:
            assert secret not in page.text, (name, page.url)


def test_sign_out_everywhere_shows_the_revoke_then_forgets(app, sandbox, browser):
    browser.sign_in(app.url)
    confirm = browser.get(f"{app.url}/logout/everywhere")
    page = browser.form_post(confirm, {}, action="/logout/everywhere")
    text = visible_text(page)
    assert "already been deleted from the server" in text
    assert "✓ Sentinel confirmed" in text
    assert calls(sandbox, "revoke") == 1
    assert browser.get(f"{app.url}/flow", allow_redirects=False).status_code == 303


class TestWalkThrough:
    @pytest.fixture
    def app_overrides(self):
        return {"LP_DEMO_MODE": "1"}

    def test_each_step_pauses_until_continue(self, app, sandbox, browser):
        pause = browser.get(f"{app.url}/login?walkthrough=1")
        assert "Step 1 of 3 — going to Sentinel" in pause.text
        assert calls(sandbox, "authorize") == 0
        go = re.search(r'href="([^"]+)">Continue to Sentinel', pause.text).group(1)
        signin = browser.get(go.replace("&amp;", "&"))
        second = browser.form_post(signin, {"username": "agent", "password": "agent"})
        assert "Step 2 of 3 — exchanging the code" in second.text
        assert "✓ the state matches the one sent in step 1" in visible_text(second)
        assert calls(sandbox, "token") == 0
        assert sandbox_log(sandbox, "token") == []  # nothing exchanged before Continue
        signed = browser.form_post(second, {}, action="/callback/exchange")
        assert "Signed in" in signed.text and calls(sandbox, "token") == 1
        third = invoke(browser, app, demo.ECHO, '{"walk": true}')
        assert "Step 3 of 3 — the first call with your token" in third.text
        assert re.search(r"Bearer [0-9a-f]{6}…", third.text) and calls(sandbox, "invoke") == 0
        result = browser.form_post(third, {}, action=f"/functions/{demo.ECHO}")
        assert "Success" in result.text and calls(sandbox, "invoke") == 1
        assert "Success" in invoke(browser, app, demo.ECHO).text  # no pause after the first
        assert calls(sandbox, "invoke") == 2


class TestSelfCheck:
    def test_admins_see_every_check_pass_with_secrets_masked(self, app, browser):
        browser.sign_in(app.url, "admin")
        page = browser.get(f"{app.url}/admin/check")
        assert page.status_code == 200
        text = visible_text(page)
        for check in (
            "CSDS: sentinel",
            "CSDS: faasGW",
            "LP_REDIRECT_URI matches this address",
            "Cookie flags fit the scheme",
            "Store reachable",
            "Clock skew",
        ):
            assert f"✓ {check}" in text, check
        assert "sandbox-secret" not in page.text and "test-secret-key" not in page.text
        assert "LP_CLIENT_SECRET •••• (14 characters)" in text

    def test_wrong_redirect_uri_and_dead_store_are_flagged(self, app, browser, monkeypatch):
        browser.sign_in(app.url, "admin")
        monkeypatch.setitem(app.app.config, "LP_REDIRECT_URI", "https://elsewhere.test/cb")
        monkeypatch.setattr(app.app.extensions["userdata"], "ping", lambda: False)
        text = visible_text(browser.get(f"{app.url}/admin/check"))
        assert "✗ LP_REDIRECT_URI matches this address" in text
        assert f"set LP_REDIRECT_URI to {app.url}/callback" in text
        assert "✗ Store reachable" in text

    def test_non_admins_get_403(self, app, browser):
        browser.sign_in(app.url, "agent")
        assert browser.get(f"{app.url}/admin/check").status_code == 403
