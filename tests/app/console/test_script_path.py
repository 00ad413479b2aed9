"""The invoke forms as the page's script (htmx) sends them: one request, the result panel back
with its own address; every other outcome says where it goes. And the same forms without it."""

import html
import json
import re
from urllib.parse import urlsplit

import pytest

from sandbox import functions as demo
from tests.support import Browser
from tests.support import calls
from tests.support import sign_in_step_by_step
from tests.support import visible_text

SCRIPT = {"HX-Request": "true", "HX-Current-URL": "(the page)"}


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url, "agent")
    return browser


def send(browser, app, path, payload="{}", script=True, **fields):
    """Send the invoke form of `path` (a function's or an event's page) as a browser would."""
    page = browser.get(f"{app.url}{path}")
    return browser.form_post(
        page,
        {"payload": payload, **fields},
        action=path,
        headers=SCRIPT if script else {},
        allow_redirects=False,
    )


def gateway_calls(sandbox):
    return calls(sandbox, "invoke") + calls(sandbox, "invoke_event")


def test_one_request_gives_the_result_panel_and_its_address(app, sandbox, agent):
    answer = send(agent, app, f"/functions/{demo.GREETING}", '{"name": "Ana"}')
    assert answer.status_code == 200
    assert "HX-Request" in answer.headers["Vary"]
    address = answer.headers["HX-Push-Url"]
    assert re.fullmatch(r"/history/[0-9a-f]{16}", address)
    # The panel alone: no page around it, no form, no snippets until "Copy as" opens.
    assert answer.text.lstrip().startswith("<section")
    assert "<html" not in answer.text and "<form" not in answer.text
    assert 'id="result"' in answer.text and "autofocus" in answer.text
    assert "Hello, Ana!" in visible_text(answer) and "curl -sS" not in answer.text
    assert re.search(r'id="announce" hx-swap-oob="innerHTML">Success: HTTP 200\.<', answer.text)
    assert calls(sandbox, "invoke") == 1
    # Its address is the whole result page: reloading it shows the result, never invokes.
    page = agent.get(f"{app.url}{address}")
    assert page.status_code == 200 and "Hello, Ana!" in visible_text(page)
    assert "<form" in page.text and 'id="result"' in page.text
    assert calls(sandbox, "invoke") == 1


def test_without_script_the_browser_is_sent_to_the_result(app, sandbox, agent):
    answer = send(agent, app, f"/functions/{demo.ECHO}", '{"plain": 1}', script=False)
    assert answer.status_code == 303
    assert "HX-Request" in answer.headers["Vary"]
    location = answer.headers["Location"]
    assert re.fullmatch(r"/history/[0-9a-f]{16}#result", location)
    page = agent.get(f"{app.url}{location}")
    assert "&#34;plain&#34;: 1" in page.text and calls(sandbox, "invoke") == 1


def test_by_event_the_panel_lists_what_ran(app, sandbox, agent):
    path = "/events/conversational_command"
    answer = send(agent, app, path, json.dumps({"messages": []}))
    assert answer.status_code == 200 and "HX-Push-Url" in answer.headers
    text = visible_text(answer)
    assert "2 functions ran" in text and demo.SUMMARISER in text
    assert calls(sandbox, "invoke_event") == 1


def test_run_again_from_a_result_page_posts_to_the_invoke_page(app, sandbox, agent):
    first = send(agent, app, f"/functions/{demo.ECHO}", '{"n": 1}')
    entry = agent.get(f"{app.url}{first.headers['HX-Push-Url']}")
    again = agent.form_post(
        entry, {}, action=f"/functions/{demo.ECHO}", headers=SCRIPT, allow_redirects=False
    )
    assert again.status_code == 200
    assert again.headers["HX-Push-Url"] != first.headers["HX-Push-Url"]
    assert "&#34;n&#34;: 1" in again.text and calls(sandbox, "invoke") == 2


def test_a_form_error_comes_back_as_the_form_with_what_was_typed(app, sandbox, agent):
    typed = '{"name": "Ana",'
    fields = {"header_name": "X-Team", "header_value": "blue"}
    answer = send(agent, app, f"/functions/{demo.GREETING}", typed, **fields)
    assert answer.status_code == 400
    assert answer.headers["HX-Retarget"] == "#request"
    assert answer.headers["HX-Reswap"] == "innerHTML"
    assert "<html" not in answer.text and 'id="result"' not in answer.text
    assert "The payload is not valid JSON" in visible_text(answer)
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", answer.text, re.S)
    assert "autofocus" in textarea.group(0)
    assert html.unescape(textarea.group(1)) == typed
    assert 'value="X-Team"' in answer.text and 'value="blue"' in answer.text
    assert gateway_calls(sandbox) == 0


def test_an_undeployed_function_is_refused_in_the_form(app, sandbox, agent):
    answer = send(agent, app, f"/functions/{demo.DRAFT}")
    assert answer.status_code == 400 and answer.headers["HX-Retarget"] == "#request"
    assert "not deployed" in visible_text(answer)
    assert gateway_calls(sandbox) == 0


def test_a_413_lands_in_the_result_panel_beside_the_form(app, sandbox, agent):
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    answer = agent.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"csrf_token": agent.csrf(page), "payload": "x" * 1_100_000},
        headers=SCRIPT,
    )
    assert answer.status_code == 413
    assert answer.headers["HX-Retarget"] == "#result"
    assert "<html" not in answer.text and 'id="result"' in answer.text
    text = visible_text(answer)
    assert "Too large" in text and "The form still holds what you typed" in text
    assert gateway_calls(sandbox) == 0


def test_an_expired_form_is_said_in_the_result_panel(app, sandbox, agent):
    answer = agent.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"csrf_token": "stale", "payload": "{}"},
        headers={**SCRIPT, "Origin": app.url},
    )
    assert answer.status_code == 400 and answer.headers["HX-Retarget"] == "#result"
    assert "Form expired" in visible_text(answer) and "<html" not in answer.text
    assert gateway_calls(sandbox) == 0


def test_an_ended_session_is_a_whole_page_and_keeps_the_form(app, sandbox, agent):
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    agent.form_post(agent.get(f"{app.url}/"), {}, action="/logout")
    answer = agent.form_post(
        page, {"payload": '{"kept": 1}'}, action=f"/functions/{demo.ECHO}", headers=SCRIPT
    )
    assert answer.status_code == 400
    assert answer.headers["HX-Retarget"] == "body"
    assert "<html" in answer.text and "Sign in again" in visible_text(answer)
    back = agent.sign_in(app.url, next=f"/functions/{demo.ECHO}")
    assert "What you typed is back" in back.text and "{&#34;kept&#34;: 1}" in back.text
    assert gateway_calls(sandbox) == 0


def test_a_signed_out_script_request_navigates_to_sign_in(app, sandbox, agent):
    entry = send(agent, app, f"/functions/{demo.ECHO}").headers["HX-Push-Url"]
    stranger = Browser()
    answer = stranger.get(f"{app.url}{entry}/snippets", headers=SCRIPT, allow_redirects=False)
    assert answer.status_code == 200 and answer.text == ""
    login = urlsplit(answer.headers["HX-Redirect"])
    assert login.path == "/login" and "snippets" in login.query


def test_snippets_are_their_owners_alone(app, sandbox, agent):
    entry = send(agent, app, f"/functions/{demo.ECHO}").headers["HX-Push-Url"]
    assert "curl -sS" in agent.get(f"{app.url}{entry}/snippets").text
    admin = Browser()
    admin.sign_in(app.url, "admin")
    for path in (entry, f"{entry}/snippets", f"{entry}?copy"):
        assert admin.get(f"{app.url}{path}").status_code == 404


class TestWalkthrough:
    @pytest.fixture
    def app_overrides(self):
        return {"LP_DEMO_MODE": "1"}

    def test_the_pause_replaces_the_page_and_invokes_nothing(self, app, sandbox, browser):
        sign_in_step_by_step(browser, app)
        paused = send(browser, app, f"/functions/{demo.ECHO}", '{"step": 3}')
        assert paused.status_code == 200
        assert paused.headers["HX-Retarget"] == "body" and "HX-Push-Url" not in paused.headers
        assert "Step 3 of 3" in paused.text and "<html" in paused.text
        assert gateway_calls(sandbox) == 0
        # Its Continue is a plain form: the browser follows to the result page.
        done = browser.form_post(paused, {}, action=f"/functions/{demo.ECHO}")
        assert "/history/" in done.url and "Success" in done.text
        assert gateway_calls(sandbox) == 1
