"""Invoke as the app: admins choose the token, agents never can, the token never shows."""

import re

import pytest

from app import ConfigError
from sandbox import functions as demo
from sandbox.catalogue import COMMAND_EVENT
from tests.support import Browser
from tests.support import build_app
from tests.support import calls
from tests.support import sandbox_log
from tests.support import visible_text


@pytest.fixture
def app_overrides():
    return {"LP_APP_CLIENT_ID": "sandbox-m2m", "LP_APP_CLIENT_SECRET": "sandbox-m2m-secret"}


def signed_in(app, user):
    browser = Browser()
    browser.sign_in(app.url, user)
    return browser


def invoke(browser, app, uuid=demo.GREETING, **fields):
    page = browser.get(f"{app.url}/functions/{uuid}")
    data = {"payload": '{"name": "Ada"}', **fields}
    return page, browser.form_post(page, data, action=f"/functions/{uuid}")


def who_invoked(sandbox):
    return [entry["principal"] for entry in sandbox_log(sandbox, "invoke")]


def test_an_admin_invokes_as_the_app_and_history_says_so(app, sandbox):
    admin = signed_in(app, "admin")
    page, done = invoke(admin, app, invoke_as="app")
    assert 'name="invoke_as" value="app"' in page.text
    assert "Sent with the app's token (client credentials)" in visible_text(done)
    assert "Hello, Ada!" in done.text and "eyJ" not in done.text  # no JWT on the page
    invoke(admin, app, invoke_as="app")
    _, mine = invoke(admin, app, invoke_as="user")
    assert "Sent with your token" in visible_text(mine)
    assert who_invoked(sandbox) == ["app:sandbox-m2m", "app:sandbox-m2m", "user:admin"]
    assert calls(sandbox, "app_token") == 1  # fetched once, then reused from the cache
    links = re.findall(r'href="(/history/[0-9a-f]{16})"', admin.get(f"{app.url}/history").text)
    oldest = admin.get(app.url + links[-1])  # newest first: the last is the first invocation
    assert "Sent with the app's token (client credentials)" in visible_text(oldest)
    tokens = [e["token"] for e in admin.get(f"{app.url}/history/export").json()]
    assert tokens == ["user", "app", "app"]


def test_an_agent_never_sees_the_choice_and_cannot_forge_it(app, sandbox):
    agent = signed_in(app, "agent")
    page, forged = invoke(agent, app, invoke_as="app")
    assert "invoke_as" not in page.text and "Invoke as" not in page.text
    assert forged.status_code == 403
    assert calls(sandbox, "invoke") == 0 and calls(sandbox, "app_token") == 0
    _, plain = invoke(agent, app)
    assert "Sent with your token" in visible_text(plain)
    assert who_invoked(sandbox) == ["user:agent"]


def test_app_credentials_go_together(sandbox, tmp_path):
    with pytest.raises(ConfigError, match="LP_APP_CLIENT_ID and LP_APP_CLIENT_SECRET go together"):
        build_app(sandbox, "http://127.0.0.1:8000/callback", tmp_path, LP_APP_CLIENT_ID="x")


def test_the_choice_of_the_app_is_kept_wherever_the_form_comes_back(app, sandbox):
    admin = signed_in(app, "admin")
    app_checked = re.compile(r'<input type="radio" name="invoke_as" value="app" checked>')
    _, result = invoke(admin, app, invoke_as="app")
    assert app_checked.search(result.text)  # the result page's form
    again = re.search(r'href="([^"]+)">Run again on the invoke page', result.text).group(1)
    rerun = admin.get(app.url + again.replace("&amp;", "&"))
    assert app_checked.search(rerun.text)  # "Run again"
    # As a browser sends the checked radio button.
    checked = {"invoke_as": re.search(r'name="invoke_as" value="(\w+)" checked', rerun.text)[1]}
    invoked_again = admin.form_post(rerun, checked, action=f"/functions/{demo.GREETING}")
    assert who_invoked(sandbox) == ["app:sandbox-m2m", "app:sandbox-m2m"]
    assert app_checked.search(invoked_again.text)
    bad = admin.form_post(rerun, {"payload": "{", **checked}, action=f"/functions/{demo.GREETING}")
    assert bad.status_code == 400 and app_checked.search(bad.text)  # a form error


def list_callers(sandbox):
    return [entry["principal"] for entry in sandbox_log(sandbox, "list_functions")]


def test_an_event_invoked_as_the_app_is_listed_with_the_users_token(app, sandbox):
    """Issue 24: once the worker's list was older than 30 s, the list was asked for with the
    app's token, which faasUI refuses by design: "Could not check who implements this event"."""
    admin = signed_in(app, "admin")
    page = admin.get(f"{app.url}/events/{COMMAND_EVENT}")
    # 30 s later: the worker's list is gone, the refreshed list is read on the invoke.
    app.app.extensions["faas_clients"].listed.clear()
    done = admin.form_post(page, {"invoke_as": "app"}, action=f"/events/{COMMAND_EVENT}")
    assert done.status_code == 200, visible_text(done)
    assert "Sent with the app's token (client credentials)" in visible_text(done)
    assert [e["principal"] for e in sandbox_log(sandbox, "invoke_event")] == ["app:sandbox-m2m"]
    assert set(list_callers(sandbox)) == {"user:admin"} and len(list_callers(sandbox)) == 2


def test_a_refused_listing_is_kept_briefly_as_a_list_is(app, sandbox):
    """Issue 24: every page of a user faasUI refuses asked it again (23,516 refused lists)."""
    viewer = signed_in(app, "viewer")
    first = viewer.get(f"{app.url}/functions")
    assert first.status_code == 403
    asked = calls(sandbox, "list_functions")
    assert asked >= 1
    for _ in range(3):
        assert viewer.get(f"{app.url}/functions").status_code == 403
        assert viewer.get(f"{app.url}/functions/{demo.ECHO}").status_code == 200
    assert calls(sandbox, "list_functions") == asked
    # Someone who may list is not refused for it, and lists from the shared list.
    admin = signed_in(app, "admin")
    assert admin.get(f"{app.url}/functions").status_code == 200
    # Once the refusal is older than a list may be, faasUI is asked again.
    app.app.extensions["faas_clients"].refused.clear()
    assert viewer.get(f"{app.url}/functions").status_code == 403
    assert list_callers(sandbox).count("user:viewer") == 2 * asked


def test_invoke_as_neither_user_nor_app_is_a_form_error(app, sandbox):
    admin = signed_in(app, "admin")
    for path in (f"/functions/{demo.GREETING}", f"/events/{COMMAND_EVENT}"):
        page = admin.get(app.url + path)
        refused = admin.form_post(page, {"invoke_as": "root"}, action=path)
        assert refused.status_code == 400, path
        assert "Invoke as yourself or as the app" in visible_text(refused)
        assert "{" in refused.text  # the form is shown again, with what was typed
    assert calls(sandbox, "invoke") == 0 and calls(sandbox, "invoke_event") == 0
