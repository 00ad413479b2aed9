"""Token lifetime: Sentinel sends no expires_in; refresh transparently; revoke; failures."""

import time

import pytest
import requests

from app.auth import tokens
from tests.support import calls
from tests.support import visible_text


@pytest.fixture
def sandbox_settings():
    return {"token_lifetime": 2}


@pytest.fixture
def app_overrides(either_store):
    """Run this suite on the file store and on Redis."""
    return either_store


def grant_of(sandbox):
    (grant,) = sandbox.app.extensions["sandbox"].state.grants.values()
    return grant


def test_short_lifetime_refreshes_transparently(app, sandbox, browser, monkeypatch):
    # Sentinel's access tokens are opaque and refreshes bring no id_token, so after the first
    # refresh the app falls back to LivePerson's 30-minute cadence; shortened here.
    monkeypatch.setattr(tokens, "DEFAULT_LIFETIME", 2)
    browser.sign_in(app.url)
    first_refresh_token = grant_of(sandbox).refresh_token
    time.sleep(2.1)
    page = browser.get(f"{app.url}/")
    assert page.status_code == 200 and "Signed in" in page.text
    assert calls(sandbox, "token") == 2
    assert grant_of(sandbox).refresh_token != first_refresh_token
    # The rotated token is the one the app keeps: a second refresh works too.
    time.sleep(2.1)
    assert "Signed in" in browser.get(f"{app.url}/").text
    assert calls(sandbox, "token") == 3


def test_no_refresh_while_the_token_is_fresh(app, sandbox, browser):
    browser.sign_in(app.url)
    for _ in range(3):
        browser.get(f"{app.url}/")
    assert calls(sandbox, "token") == 1


def test_revoked_grant_ends_the_session_at_next_refresh(app, sandbox, browser):
    browser.sign_in(app.url)
    state = sandbox.app.extensions["sandbox"].state
    state.revoke(grant_of(sandbox))
    time.sleep(2.1)
    page = browser.get(f"{app.url}/")
    assert page.status_code == 401
    assert "Sign in again" in visible_text(page)
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


def test_unreachable_sentinel_keeps_the_session(app, sandbox, browser):
    browser.sign_in(app.url)
    time.sleep(2.1)
    sandbox.stop()
    page = browser.get(f"{app.url}/")
    assert page.status_code == 503
    assert "still signed in" in visible_text(page)
    assert page.headers["Retry-After"]


@pytest.mark.parametrize("sandbox_settings", [{}])
def test_sign_out_everywhere_revokes_the_refresh_token(app, sandbox, browser):
    browser.sign_in(app.url)
    refresh_token = grant_of(sandbox).refresh_token
    confirm = browser.get(f"{app.url}/logout/everywhere")
    assert "Agent Workspace" in confirm.text
    page = browser.form_post(confirm, {}, action="/logout/everywhere")
    assert "LivePerson ended your sign-in everywhere" in page.text
    assert calls(sandbox, "revoke") == 1
    reuse = requests.post(
        f"{sandbox.url}/sentinel/api/account/12345678/token?v=2.0",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=("functions-invoker", "sandbox-secret"),
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


@pytest.mark.parametrize("sandbox_settings", [{}])
def test_sign_out_everywhere_signs_out_even_when_sentinel_is_down(app, sandbox, browser):
    browser.sign_in(app.url)
    confirm = browser.get(f"{app.url}/logout/everywhere")
    sandbox.stop()
    page = browser.form_post(confirm, {}, action="/logout/everywhere")
    assert "did not confirm" in page.text
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text
