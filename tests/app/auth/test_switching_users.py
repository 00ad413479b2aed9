"""Switching users: signing out everywhere ends the sandbox's own sign-in (the next sign-in asks
for a password), and the sandbox offers another account while it remembers someone."""

from tests.support import Browser
from tests.support import calls
from tests.support import sandbox_log
from tests.support import visible_text


def sign_out_everywhere(browser, app):
    confirm = browser.get(f"{app.url}/logout/everywhere")
    return browser.form_post(confirm, {}, action="/logout/everywhere")


def test_after_sign_out_everywhere_the_next_sign_in_asks_for_a_password(app, sandbox, browser):
    browser.sign_in(app.url)
    done = sign_out_everywhere(browser, app)
    assert "LivePerson ended your sign-in everywhere" in visible_text(done)
    assert calls(sandbox, "revoke") == 1
    page = browser.get(f"{app.url}/login")
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert "Continue as" not in page.text
    signed = browser.form_post(page, {"username": "admin", "password": "admin"})
    assert "Signed in" in signed.text
    assert '<span class="who">admin</span>' in signed.text


def test_a_local_sign_out_leaves_the_sandbox_remembering_the_user(app, sandbox, browser):
    browser.sign_in(app.url)
    home = browser.get(f"{app.url}/")
    browser.form_post(home, {}, action="/logout")
    page = browser.get(f"{app.url}/login")
    text = visible_text(page)
    assert "You are signed in to LivePerson as agent" in text
    assert "Continue as agent" in text and "Use another account" in text
    assert 'name="password"' not in page.text
    again = browser.form_post(page, {}, submit="continue")
    assert '<span class="who">agent</span>' in again.text
    assert calls(sandbox, "token") == 2  # a second code, exchanged; no password asked


def test_use_another_account_signs_the_remembered_user_out_at_the_sandbox(app, sandbox, browser):
    browser.sign_in(app.url)
    browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
    chooser = browser.get(f"{app.url}/login")
    form = browser.form_post(chooser, {}, submit="another")
    assert 'name="username"' in form.text and "Continue as" not in form.text
    assert calls(sandbox, "token") == 1  # nothing was issued for the remembered user
    signed = browser.form_post(form, {"username": "viewer", "password": "viewer"})
    assert '<span class="who">viewer</span>' in signed.text
    # The sandbox now remembers the new user, not the old one.
    browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
    assert "Continue as viewer" in visible_text(browser.get(f"{app.url}/login"))
    codes = [
        p for p in sandbox_log(sandbox, "token") if p.get("grant_type") == "authorization_code"
    ]
    assert len(codes) == 2


def test_a_revoke_ends_the_users_sign_in_in_every_browser(app, sandbox, browser):
    browser.sign_in(app.url)
    with Browser() as other:
        other.sign_in(app.url)
        sign_out_everywhere(other, app)
        # The first browser's sandbox sign-in ended too, as LivePerson ends it in all apps.
        browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
        page = browser.get(f"{app.url}/login")
        assert 'name="password"' in page.text and "Continue as" not in page.text
