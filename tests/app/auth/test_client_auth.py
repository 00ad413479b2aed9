"""Speaking Sentinel as documented, against the sandbox in every SANDBOX_CLIENT_AUTH mode:
HTTP Basic first, one retry in the body form after invalid_client, remembered; the user's id on
every call made with the user's token; permissions named in 403 explanations."""

import logging
import time

import pytest

from app.auth import sentinel
from sandbox import functions as demo
from tests.support import Browser
from tests.support import build_app
from tests.support import calls
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import visible_text

MODES = ["basic", "post", "both"]
# What the app sends first (Basic), and what the sandbox accepts in each mode.
TOKEN_CALLS_AT_SIGN_IN = {"basic": 1, "post": 2, "both": 1}
USED = {"basic": "basic", "post": "post", "both": "basic"}
FALLBACK_LOG = "Sentinel refused basic client authentication"


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def sandbox_settings(mode):
    return {"client_auth": mode, "token_lifetime": 2}


def fallback_logs(caplog):
    return [r for r in caplog.records if r.getMessage().startswith(FALLBACK_LOG)]


def test_sign_in_refresh_and_revoke_in_each_mode(app, sandbox, browser, mode, caplog):
    caplog.set_level(logging.WARNING, logger="app")
    page = browser.sign_in(app.url)
    assert page.status_code == 200 and "User id 4000001" in visible_text(page)
    exchanges = sandbox_log(sandbox, "token")
    assert len(exchanges) == TOKEN_CALLS_AT_SIGN_IN[mode]
    assert exchanges[0]["client_auth"] == "basic"  # Basic first, as the Functions guide says
    assert exchanges[-1]["client_auth"] == USED[mode]
    assert "client_secret" not in exchanges[0]  # Basic sends no secret in the body
    # The refused call spent nothing: the same code worked on the second call.
    assert len({e["code"] for e in exchanges}) == 1

    time.sleep(2.1)  # the id_token (and the opaque access token) expire after 2 s
    assert "Signed in" in browser.get(f"{app.url}/").text
    refresh = sandbox_log(sandbox, "token")[len(exchanges) :]
    assert [(e["grant_type"], e["client_auth"]) for e in refresh] == [
        ("refresh_token", USED[mode])
    ]  # one call: the method learned at sign-in is remembered

    confirm = browser.get(f"{app.url}/logout/everywhere")
    done = browser.form_post(confirm, {}, action="/logout/everywhere")
    assert "LivePerson ended your sign-in everywhere" in done.text
    assert [e["client_auth"] for e in sandbox_log(sandbox, "revoke")] == [USED[mode]]
    assert len(fallback_logs(caplog)) == (1 if mode == "post" else 0)  # logged once


def test_every_user_token_call_carries_the_user_id(app, sandbox, browser):
    browser.sign_in(app.url, "agent")
    assert "Greeting" in visible_text(browser.get(f"{app.url}/functions"))
    assert "Success" in invoke(browser, app, demo.ECHO).text
    page = browser.get(f"{app.url}/events/conversational_command")
    answer = browser.form_post(page, {"payload": "{}"}, action="/events/conversational_command")
    assert "Success" in answer.text
    seen = {
        endpoint: [entry["userId"] for entry in sandbox_log(sandbox, endpoint)]
        for endpoint in ("list_functions", "invoke", "invoke_event", "is_implemented")
    }
    assert all(seen.values()), seen
    assert {user for ids in seen.values() for user in ids} == {"4000001"}
    assert calls(sandbox, "app_token") == 0  # every call above used the user's own token


@pytest.mark.parametrize("mode", ["post"])
def test_the_learned_method_is_shared_through_the_store(app, sandbox, served_app, tmp_path):
    Browser().sign_in(app.url)
    assert calls(sandbox, "token") == 2
    # Another worker or host on the same store follows without a refused call.
    other = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    with other.app_context():
        assert sentinel.client_auth() == ("post", "learned by another worker or host")


@pytest.mark.parametrize("mode", ["post"])
@pytest.mark.parametrize("app_overrides", [{"LP_TOKEN_AUTH": "basic"}])
def test_a_pinned_method_is_never_switched(app, sandbox, browser):
    page = browser.sign_in(app.url)
    assert page.status_code == 502 and "tell whoever runs this app" in visible_text(page).lower()
    assert [e["client_auth"] for e in sandbox_log(sandbox, "token")] == ["basic"]


@pytest.mark.parametrize("mode", ["basic"])
@pytest.mark.parametrize("app_overrides", [{"LP_CLIENT_SECRET": "not-the-secret"}])
def test_a_wrong_client_secret_is_the_apps_settings_not_the_users_sign_in(
    app, sandbox, browser, caplog
):
    caplog.set_level(logging.WARNING, logger="app")
    page = browser.sign_in(app.url)
    text = visible_text(page)
    # An agent cannot fix this by trying again: say whose settings failed and whom to tell.
    assert page.status_code == 502
    assert "refused this app's own sign-in settings" in text
    assert "Tell whoever runs this app" in text
    assert "Sign in again" not in text and "Start again" not in text
    assert "not-the-secret" not in page.text
    # Both client authentications were tried once each, then nothing more.
    assert [e["client_auth"] for e in sandbox_log(sandbox, "token")] == ["basic", "post"]
    (line,) = [r.getMessage() for r in caplog.records if "invalid_client" in r.getMessage()]
    assert "LP_CLIENT_ID=functions-invoker" in line and "LP_CLIENT_SECRET" in line
    # Once fixed, an admin's self-check still names the refusal.
    app.app.config["LP_CLIENT_SECRET"] = "sandbox-secret"
    with Browser() as admin:
        admin.sign_in(app.url, user="admin")
        check = visible_text(admin.get(f"{app.url}/admin/check"))
    assert "Sentinel refused client 'functions-invoker' (invalid_client)" in check


@pytest.mark.parametrize("mode", ["post"])
@pytest.mark.parametrize("app_overrides", [{"LP_TOKEN_AUTH": "post"}])
def test_pinning_post_skips_the_refused_call(app, sandbox, browser):
    assert "Signed in" in browser.sign_in(app.url).text
    assert [e["client_auth"] for e in sandbox_log(sandbox, "token")] == ["post"]


@pytest.mark.parametrize("mode", ["basic", "post"])
def test_admin_check_shows_the_method_and_tries_the_account(app, sandbox, browser, mode):
    browser.sign_in(app.url, "admin")
    page = browser.get(f"{app.url}/admin/check")
    text = visible_text(page)
    method = "HTTP Basic (Authorization header)" if mode == "basic" else "form body"
    learned = "default" if mode == "basic" else "learned by this process"
    assert f"Token endpoint client authentication {method}" in text and learned in text
    assert "Sentinel's documentation does not mention PKCE" in text and "LP_PKCE=0" in text
    before = calls(sandbox, "token")
    tried = browser.form_post(page, {}, action="/admin/check")
    text = visible_text(tried)
    assert "✓ Host of sentinel" in text and "✓ Host of faasGW" in text
    if mode == "basic":
        assert "✓ Sentinel token endpoint: HTTP Basic" in text
        assert "i Sentinel token endpoint: form body" in text and "invalid_client" in text
        assert "✓ Client authentication to use HTTP Basic, the default" in text
    else:
        assert "i Sentinel token endpoint: HTTP Basic" in text
        assert "✓ Sentinel token endpoint: form body" in text and "invalid_grant" in text
        assert "set LP_TOKEN_AUTH=post" in text
    assert calls(sandbox, "token") == before + 2  # one made-up code per method
    assert sum(calls(sandbox, e) for e in ("invoke", "invoke_event", "app_token")) == 0
    assert "sandbox-secret" not in tried.text


class TestPermissions:
    @pytest.fixture
    def sandbox_settings(self):
        return {}

    def test_faas_admin_lists_but_is_told_which_permission_invoking_needs(self, app, browser):
        browser.sign_in(app.url, "faasadmin")
        assert "Greeting" in visible_text(browser.get(f"{app.url}/functions"))
        page = invoke(browser, app, demo.ECHO)
        text = visible_text(page)
        assert "HTTP status 403" in text
        assert "needs the FaaS-Invocation or FaaS-Developer permission" in text
        assert "FaaS-Admin may read functions but not invoke them" in text

    def test_developer_invokes(self, app, browser):
        browser.sign_in(app.url, "developer")
        assert "Success" in invoke(browser, app, demo.ECHO).text

    def test_viewer_is_told_which_permission_reading_needs(self, app, browser):
        browser.sign_in(app.url, "viewer")
        page = browser.get(f"{app.url}/functions")
        assert page.status_code == 403
        text = visible_text(page)
        assert "needs the FaaS-Invocation, FaaS-Developer or FaaS-Admin permission" in text
