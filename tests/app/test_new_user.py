"""What a new user tripped over (issue 21), through HTTP against the sandbox."""

import html
import json
import re
from urllib.parse import urlsplit

import pytest

from app import create_app
from sandbox import functions as demo
from sandbox.directory import USERS
from tests.support import ROOT
from tests.support import Browser
from tests.support import Served
from tests.support import calls
from tests.support import captured_callback
from tests.support import invoke
from tests.support import visible_text


def test_the_sandbox_sign_in_page_lists_every_demo_user_with_its_profile(app):
    page = Browser().get(f"{app.url}/login")
    text = visible_text(page).replace(" : ", ": ")
    assert "Sign in" in text and 'name="username"' in page.text
    for user in USERS:
        assert f"{user.login_name}: " in text
    assert "faasadmin: FaaS-Admin — reads, may not invoke" in text
    assert "developer: FaaS-Developer — reads and invokes" in text
    assert "viewer: no Functions permission — may not read or invoke" in text


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


def test_counts_are_singular_for_one(app, browser):
    browser.sign_in(app.url, "agent")
    created = browser.form_post(
        browser.get(f"{app.url}/suites"), {"name": "One"}, action="/suites"
    )
    case = {"name": "greets", "function": demo.GREETING, "payload": {"name": "Ana"}}
    suite = json.dumps({"name": "One", "cases": [case]})
    saved = browser.form_post(
        created, {"suite": suite}, action=f"{urlsplit(created.url).path}/edit"
    )
    text = visible_text(saved)
    assert "Run 1 case" in text and "Run 1 cases" not in text
    assert "with 1 case." in text
    exported = browser.get(f"{app.url}/suites/export").content
    imported = browser.post(
        f"{app.url}/suites/import",
        data={"csrf_token": browser.csrf(saved)},
        files={"file": ("suites.json", exported)},
        headers={"Origin": app.url},
    )
    assert "Imported 1 suite." in visible_text(imported)


def test_the_admin_check_shows_settings_as_written_not_python_reprs(app, browser):
    browser.sign_in(app.url, "admin")
    text = visible_text(browser.get(f"{app.url}/admin/check"))
    assert "127.0.0.1/32, ::1/128" in text
    assert "IPv4Network" not in text and "[" not in text.split("METRICS_ALLOW")[1][:40]


def test_a_missing_function_is_explained_once(app, browser):
    browser.sign_in(app.url, "agent")
    text = visible_text(invoke(browser, app, "00000000-0000-4000-8000-000000000000"))
    assert text.count("No function with this UUID is deployed on account") == 1
    assert "exists on this account" not in text


def test_the_sign_in_again_page_is_not_called_an_error(app, browser):
    browser.sign_in(app.url, "agent")
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
    again = browser.form_post(page, {"payload": "{}"}, action=f"/functions/{demo.ECHO}")
    text = visible_text(again)
    assert "Sign in again" in text
    assert "Error 400" not in text and "Error 401" not in text


def test_the_history_export_writes_what_was_typed_and_iso_times(app, browser):
    browser.sign_in(app.url, "agent")
    invoke(browser, app, demo.ECHO, '{\r\n  "a": 1\r\n}')
    (entry,) = browser.get(f"{app.url}/history/export").json()
    assert entry["payload"] == '{\n  "a": 1\n}'
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["at"])
    saved = browser.get(f"{app.url}/payloads/export").json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", saved["exportedAt"])


def import_payloads(browser, app, items):
    """Upload a saved-payloads export as the Import form does; return the page it lands on."""
    listing = browser.get(f"{app.url}/payloads")
    return browser.post(
        f"{app.url}/payloads/import",
        data={"csrf_token": browser.csrf(listing)},
        files={"file": ("payloads.json", json.dumps({"savedPayloads": items}))},
        headers={"Origin": app.url},
    )


def saved_payloads(browser, app):
    exported = browser.get(f"{app.url}/payloads/export").json()["savedPayloads"]
    return {item["name"]: item["payload"] for item in exported}


@pytest.mark.parametrize("choice", ["replace", "keep"])
def test_importing_asks_before_replacing_and_says_what_it_did(app, browser, choice):
    browser.sign_in(app.url, "agent")
    mine = {"kind": "function", "target": demo.ECHO}
    import_payloads(
        browser,
        app,
        [{**mine, "name": "a", "payload": '{"a": 1}'}, {**mine, "name": "b", "payload": "{}"}],
    )
    file = [
        {**mine, "name": "a", "payload": '{"a": 2}'},  # same name, another payload
        {**mine, "name": "b", "payload": "{}"},  # the same
        {**mine, "name": "c", "payload": '{"c": 3}'},  # new
    ]
    question = import_payloads(browser, app, file)
    assert question.status_code == 200
    assert question.history and question.history[0].status_code == 303  # a page of its own
    text = visible_text(question)
    assert "Replace saved payloads?" in text
    assert "Same name, another payload “a”" in text and "New, added either way “c”" in text
    assert saved_payloads(browser, app) == {"a": '{"a": 1}', "b": "{}"}  # nothing yet
    assert browser.get(question.url).status_code == 200  # reloading only asks again
    done = browser.form_post(question, {"choice": choice}, action=urlsplit(question.url).path)
    said = visible_text(done)
    assert "Added 1 saved payload: “c”" in said
    assert "1 payload already saved as it is" in said
    if choice == "replace":
        assert "replaced 1 payload of that name: “a”" in said
        assert saved_payloads(browser, app) == {"a": '{"a": 2}', "b": "{}", "c": '{"c": 3}'}
    else:
        assert "kept your saved 1 payload of that name: “a”" in said
        assert saved_payloads(browser, app) == {"a": '{"a": 1}', "b": "{}", "c": '{"c": 3}'}
    again = browser.get(question.url)
    assert "That import is done or has expired" in visible_text(again)


def test_a_pending_import_is_its_users_alone(app, browser):
    browser.sign_in(app.url, "agent")
    mine = {"kind": "function", "target": demo.ECHO, "name": "a"}
    import_payloads(browser, app, [{**mine, "payload": "{}"}])
    question = import_payloads(browser, app, [{**mine, "payload": '{"x": 1}'}])
    other = Browser()
    other.sign_in(app.url, "developer")
    assert "That import is done or has expired" in visible_text(other.get(question.url))
    assert "Replace saved payloads?" in visible_text(browser.get(question.url))


def test_open_a_function_by_name_and_keep_a_rejected_entry(app, browser):
    browser.sign_in(app.url, "agent")
    opened = browser.get(f"{app.url}/functions", params={"open": "greeting"})
    assert opened.url == f"{app.url}/functions/{demo.GREETING}"
    several = browser.get(f"{app.url}/functions", params={"open": "lookup"})
    assert several.url == f"{app.url}/functions?name=lookup"
    text = visible_text(several)
    assert "Order lookup" in text and "Customer lookup" in text and "Greeting" not in text
    rejected = browser.get(f"{app.url}/functions", params={"open": "no such thing"})
    assert "No function has that UUID or name" in visible_text(rejected)
    assert 'name="open"' in rejected.text and 'value="no such thing"' in rejected.text


def test_a_rejected_event_id_stays_in_the_field(app, browser):
    browser.sign_in(app.url, "agent")
    rejected = browser.get(f"{app.url}/events", params={"event_id": "not an id!"})
    assert rejected.status_code == 400
    assert 'value="not an id!"' in rejected.text and 'aria-invalid="true"' in rejected.text


def test_the_list_shows_each_uuid_and_a_draft_opens_read_only(app, sandbox, browser):
    browser.sign_in(app.url, "agent")
    listing = browser.get(f"{app.url}/functions")
    for function in demo.DEMO:
        assert f'<code id="uuid-{function.uuid}">{function.uuid}</code>' in listing.text
        assert f'href="/functions/{function.uuid}"' in listing.text  # drafts included
    assert 'aria-label="Copy the UUID of Greeting"' in listing.text
    draft = browser.get(f"{app.url}/functions/{demo.DRAFT}")
    assert draft.status_code == 200
    assert "so it cannot be invoked: you can read it here" in visible_text(draft)
    assert re.search(
        r'<button type="submit" class="primary"[^>]* disabled[^>]*>Invoke', draft.text
    )
    refused = invoke(browser, app, demo.DRAFT)
    assert refused.status_code == 400 and calls(sandbox, "invoke") == 0


def save_payload(browser, app, page, fields):
    """Press Save payload on an invoke page (its button posts the form to /payloads)."""
    data = {"csrf_token": browser.csrf(page), **fields}
    return browser.post(f"{app.url}/payloads", data=data, headers={"Origin": app.url})


def test_keep_the_old_one_brings_back_what_was_typed_and_back_never_reposts(app, browser):
    browser.sign_in(app.url, "agent")
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    save = {"kind": "function", "target": demo.ECHO, "name": "case"}
    save_payload(browser, app, page, {**save, "payload": '{"v": 1}'})
    invoke(browser, app, demo.ECHO, '{"invoked": true}')
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    typed = {"payload": '{\r\n  "v": 2\r\n}', "header_name": "X-Team", "header_value": "blue"}
    question = save_payload(browser, app, page, {**save, **typed})
    # The question is a page of its own: reached by a 303, so Back and reload are plain GETs.
    assert question.history[0].status_code == 303 and question.request.method == "GET"
    assert "Replace the saved payload “case”?" in visible_text(question)
    assert browser.get(question.url).status_code == 200
    keep = re.search(r'<a class="button" href="([^"]+)">Keep the old one', question.text)[1]
    kept = browser.get(app.url + html.unescape(keep))
    assert '{\n  "v": 2\n}</textarea>' in html.unescape(kept.text)
    assert 'value="X-Team"' in kept.text and 'value="blue"' in kept.text
    assert saved_payloads(browser, app) == {"case": '{"v": 1}'}
    assert '"v": 2' in html.unescape(browser.get(kept.url).text)  # a reload keeps it too


def test_a_refused_save_brings_back_what_was_typed(app, browser):
    browser.sign_in(app.url, "agent")
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    sent = {"kind": "function", "target": demo.ECHO, "name": "", "payload": '{"mine": 1}'}
    back = save_payload(browser, app, page, sent)
    assert "Give the payload a name" in visible_text(back)
    assert '{"mine": 1}</textarea>' in html.unescape(back.text)


def test_cookies_cleared_then_invoke_goes_the_sign_in_again_way_keeping_the_form(
    app, sandbox, browser
):
    browser.sign_in(app.url, "agent")
    path = f"/functions/{demo.ECHO}"
    page = browser.get(app.url + path)
    browser.cookies.clear(domain="127.0.0.1")
    sent = browser.form_post(page, {"payload": '{"typed": "before"}'}, action=path)
    text = visible_text(sent)
    assert "Sign in again" in text and "what you typed will be back" in text
    assert "Form expired" not in text and "Reload the page" not in text
    again = browser.form_post(page, {"payload": '{"typed": "before"}'}, action=path)
    assert "what you typed will be back" in visible_text(again)  # a reload re-posts: harmless
    back = browser.sign_in(app.url, "agent", next=path)
    assert back.url == app.url + path
    assert '{"typed": "before"}</textarea>' in html.unescape(back.text)
    assert calls(sandbox, "invoke") == 0


def test_a_signed_out_script_post_too_long_to_keep_is_said_beside_the_form(app, browser):
    path = f"/functions/{demo.ECHO}"
    sent = browser.post(
        app.url + path,
        data={"payload": json.dumps({"long": "x" * 5000})},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": app.url, "HX-Request": "true"},
    )
    assert sent.status_code == 400 and sent.headers["HX-Retarget"] == "#result"
    text = visible_text(sent)
    assert "too long to keep while you sign in: copy it from the form" in text
    assert "Sign in again" in text and "Error 400" not in text
