"""Invoke as the app: admins choose the token, agents never can, the token never shows."""

import re

import pytest

from app import ConfigError
from sandbox import functions as demo
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
