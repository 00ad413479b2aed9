"""What a new user tripped over (issue 21), through HTTP against the sandbox."""

from app import create_app
from sandbox.directory import USERS
from tests.support import ROOT
from tests.support import Browser
from tests.support import Served
from tests.support import captured_callback
from tests.support import visible_text


def test_the_sandbox_sign_in_page_lists_every_demo_user_with_its_profile(app):
    page = Browser().get(f"{app.url}/login")
    text = visible_text(page).replace(" : ", ": ")
    assert "Sign in" in text and 'name="username"' in page.text
    for user in USERS:
        assert f"{user.login_name}: " in text
    assert "faasadmin: FaaS-Admin (may: reads)" in text
    assert "developer: FaaS-Developer (may: reads and invokes)" in text
    assert "viewer: no Functions permission (may: none)" in text


def test_the_signed_out_home_in_sandbox_mode_says_how_to_sign_in(sandbox, tmp_path):
    served = Served("127.0.0.1")
    settings = {"SANDBOX_URL": sandbox.url, "LP_REDIRECT_URI": f"{served.url}/callback"}
    served.start(create_app(settings, instance_path=str(tmp_path)))
    try:
        text = visible_text(Browser().get(f"{served.url}/"))
    finally:
        served.stop()
    assert "sign in as agent with the password agent" in text


def test_the_signed_out_home_outside_sandbox_mode_names_no_demo_user(app):
    assert "agent" not in visible_text(Browser().get(f"{app.url}/"))


def test_the_signed_in_home_leads_to_functions_before_the_token_details(app, browser):
    home = browser.sign_in(app.url, "agent")
    text = visible_text(home)
    assert "Open Functions" in text
    assert text.index("Open Functions") < text.index("Access token") < text.index("Refresh now")
    main = home.text[home.text.index("<main") :]
    first_button = main[main.index('class="button primary"') :]
    assert first_button.startswith('class="button primary" href="/functions"')


def test_back_to_the_callback_after_signing_in_goes_home(app, browser):
    callback_url = captured_callback(browser, app)
    assert browser.get(callback_url).status_code == 200
    again = browser.get(callback_url, allow_redirects=False)
    assert again.status_code == 303
    assert again.headers["Location"] == "/"
    assert "Signed in" in visible_text(browser.get(callback_url))


def test_an_old_callback_signed_out_still_says_the_sign_in_expired(app, browser):
    callback_url = captured_callback(browser, app)
    browser.get(callback_url)
    browser.cookies.clear()
    again = browser.get(callback_url, allow_redirects=False)
    assert again.status_code == 400
    assert "expired" in visible_text(again).lower()


def test_the_readme_and_the_app_agree_on_who_may_use_suites(app, browser):
    readme = (ROOT / "README.md").read_text()
    bullet = readme[readme.index("- **Test suites**") :].split("\n- ")[0]
    assert "for admins" not in bullet and "every signed-in user" in bullet
    home = browser.sign_in(app.url, "agent")
    assert '<a href="/suites">Suites</a>' in home.text
    created = browser.form_post(
        browser.get(f"{app.url}/suites"), {"name": "Mine"}, action="/suites"
    )
    assert created.status_code == 200 and "<h1>Mine</h1>" in created.text
