"""The invocation console through HTTP against the sandbox: list, invoke, events, bad input."""

import html
import json
import re
from urllib.parse import urlsplit

import pytest

from sandbox import functions as demo
from tests.support import Browser
from tests.support import calls
from tests.support import copy_as
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import token_record
from tests.support import visible_text


@pytest.fixture
def sandbox_settings():
    return {"execution_limit": 0.3, "flaky_share": 1.0}


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url, "agent")
    return browser


def gateway_calls(sandbox):
    return sum(calls(sandbox, name) for name in ("invoke", "invoke_event", "is_implemented"))


def test_functions_list_and_filters(app, agent):
    text = visible_text(agent.get(f"{app.url}/functions"))
    for name in ("Greeting", "Echo"):
        assert name in text
    assert "not deployed (Draft), so it cannot be invoked" in text
    drafts = visible_text(agent.get(f"{app.url}/functions", params={"state": "Draft"}))
    assert "Draft" in drafts and "Greeting" not in drafts
    by_event = agent.get(f"{app.url}/functions", params={"event": "conversational"})
    assert "Greeting" not in visible_text(by_event)
    by_name = visible_text(agent.get(f"{app.url}/functions", params={"name": "greet"}))
    assert "Greeting" in by_name and "Echo" not in by_name


def test_invoke_greeting_shows_result_logs_and_request_id(app, sandbox, agent):
    page = invoke(
        agent, app, demo.GREETING, '{"name": "Ana"}', header_name="X-Team", header_value="blue"
    )
    text = visible_text(page)
    assert page.status_code == 200
    assert "Success" in text and "Hello, Ana!" in text
    assert "Greeting Ana" in text  # the function's log line
    assert calls(sandbox, "invoke") == 1
    (sent,) = sandbox_log(sandbox, "invoke")
    assert sent["body"]["payload"] == {"name": "Ana"}
    assert {"key": "X-Team", "value": "blue"} in sent["body"]["headers"]
    assert sent["headers"]["X-Request-ID"] in text


@pytest.mark.parametrize(
    ("uuid", "badge", "explained"),
    [
        (demo.FAILING, "The function failed", "custom-failure"),
        (demo.CRASHING, "The function failed", "runtime-exception"),
        (demo.SLOW, "The function failed", "executiontime-exceeded"),
        (demo.FLAKY, "The platform refused or failed", "HTTP status 502"),
    ],
)
def test_failures_are_explained(app, sandbox, agent, uuid, badge, explained):
    page = invoke(agent, app, uuid)
    text = visible_text(page)
    assert badge in text
    assert explained in text
    assert "What happened:" in text and "What to do:" in text
    assert calls(sandbox, "invoke") == 1  # never retried automatically


def test_draft_cannot_be_invoked(app, sandbox, agent):
    page = invoke(agent, app, demo.DRAFT)
    assert page.status_code == 400
    assert "not deployed" in visible_text(page)
    assert gateway_calls(sandbox) == 0


def test_event_page_and_invocation_reach_both_functions(app, sandbox, agent):
    page = agent.get(f"{app.url}/events/conversational_command")
    text = visible_text(page)
    assert "Implemented yes" in text
    assert "Conversation summariser" in text or "summar" in text.lower()
    result = agent.form_post(
        page, {"payload": json.dumps({"messages": []})}, action="/events/conversational_command"
    )
    text = visible_text(result)
    assert "2 functions ran" in text
    assert demo.SUMMARISER in text and demo.BILLING_COMMAND in text
    assert calls(sandbox, "invoke_event") == 1


def test_event_for_a_skill_runs_only_its_functions(app, agent):
    page = agent.get(f"{app.url}/events/conversational_command", params={"skill_id": "9999"})
    result = agent.form_post(
        page, {"payload": "{}", "skill_id": "9999"}, action="/events/conversational_command"
    )
    text = visible_text(result)
    assert "1 function ran" in text and demo.BILLING_COMMAND not in text


def test_unimplemented_event_says_so(app, agent):
    page = agent.get(f"{app.url}/events/my_custom_event")
    assert "Implemented no" in visible_text(page)
    result = agent.form_post(page, {"payload": "{}"}, action="/events/my_custom_event")
    assert "nothing ran" in visible_text(result)


def test_history_rerun_prefills_without_invoking(app, sandbox, agent):
    invoke(agent, app, demo.ECHO, '{"again": 1}')
    history = agent.get(f"{app.url}/history")
    assert "Echo" in visible_text(history)
    entry_link = re.search(r'href="(/history/[0-9a-f]{16})"', history.text).group(1)
    entry = agent.get(f"{app.url}{entry_link}")
    rerun = re.search(r'href="([^"]+)">Run again on the invoke page', entry.text)
    rerun_link = html.unescape(rerun.group(1))
    page = agent.get(f"{app.url}{rerun_link}")
    assert "{&#34;again&#34;: 1}" in page.text or '{"again": 1}' in visible_text(page)
    assert calls(sandbox, "invoke") == 1
    export = agent.get(f"{app.url}/history/export")
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(export.text)[0]["payload"] == '{"again": 1}'


def test_last_payload_prefills_the_form(app, agent):
    invoke(agent, app, demo.ECHO, '{"last": true}')
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    assert "{&#34;last&#34;: true}" in page.text


def test_saved_payloads_round_trip(app, agent, browser):
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    saved = agent.post(
        f"{app.url}/payloads",
        data={
            "csrf_token": agent.csrf(page),
            "kind": "function",
            "target": demo.ECHO,
            "payload": '{"kept": 1}',
            "name": "my case",
        },
    )
    assert "Saved the payload as “my case”" in saved.text
    assert "{&#34;kept&#34;: 1}" in saved.text  # loaded back into the form
    export = agent.get(f"{app.url}/payloads/export").json()
    assert export["savedPayloads"] == [
        {"kind": "function", "target": demo.ECHO, "name": "my case", "payload": '{"kept": 1}'}
    ]
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    ask = re.search(r'href="(/payloads/delete\?[^"]+)">delete', page.text).group(1)
    confirm = agent.get(app.url + html.unescape(ask))
    assert "Delete the saved payload “my case”?" in visible_text(confirm)
    assert len(agent.get(f"{app.url}/payloads/export").json()["savedPayloads"]) == 1
    deleted = agent.form_post(confirm, {}, action="/payloads/delete")
    assert "Deleted the saved payload" in deleted.text
    assert agent.get(f"{app.url}/payloads/export").json()["savedPayloads"] == []
    listing = agent.get(f"{app.url}/payloads")
    body = json.dumps(export).encode()
    imported = agent.post(
        f"{app.url}/payloads/import",
        data={"csrf_token": agent.csrf(listing)},
        files={"file": ("payloads.json", body, "application/json")},
    )
    assert "Added 1 saved payload: “my case”." in imported.text
    assert "my case" in visible_text(agent.get(f"{app.url}/payloads"))


def test_import_reports_bad_entries(app, agent):
    listing = agent.get(f"{app.url}/payloads")
    body = json.dumps(
        {
            "savedPayloads": [
                {"kind": "function", "target": "../x", "name": "a", "payload": "{}"},
                {"kind": "event", "target": "ok_event", "name": "b", "payload": "{bad"},
                {"kind": "event", "target": "ok_event", "name": "c", "payload": "{}"},
            ]
        }
    )
    page = agent.post(
        f"{app.url}/payloads/import",
        data={"csrf_token": agent.csrf(listing)},
        files={"file": ("p.json", body, "application/json")},
    )
    assert "Added 1 saved payload: “" in page.text
    assert "; skipped 2 invalid: entry 1 names no function" in page.text
    assert "entry 2 (b): the payload is not valid JSON" in page.text


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "123e4567e89b12d3a456426614174000",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "123e4567-e89b-12d3-a456-42661417400",
        "../../x",
        "%2e%2e%2f",
    ],
)
def test_malformed_uuid_is_404_with_no_gateway_call(app, sandbox, agent, bad):
    response = agent.get(f"{app.url}/functions/{bad}")
    assert response.status_code == 404
    assert gateway_calls(sandbox) == 0


def test_uppercase_uuid_is_accepted(app, agent):
    page = agent.get(f"{app.url}/functions/{demo.GREETING.upper()}")
    assert page.status_code == 200 and "Greeting" in page.text


@pytest.mark.parametrize(
    ("payload", "pointed"),
    [
        ("{a:1}", "line 1, column 2"),
        ('{\n  "a": 1,\n}', "line 3, column 1"),
        ("NaN", "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("1e999999", "too large"),
        ("1" * 5000, "more than 100 digits"),
        ("[" * 100_000, "nests deeper"),
        ('"' + "x" * 300_000 + '"', "larger than 256 KB"),
        ("", "empty"),
    ],
)
def test_bad_payload_comes_back_with_input_and_error(app, sandbox, agent, payload, pointed):
    page = invoke(agent, app, demo.ECHO, payload)
    assert page.status_code == 400
    assert pointed in visible_text(page)
    if len(payload) < 1000:
        assert visible_text(page).count(payload.split("\n")[0]) >= 1
    assert gateway_calls(sandbox) == 0


def test_oversized_body_is_413(app, sandbox, agent):
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    response = agent.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"csrf_token": agent.csrf(page)},
        files={"big": ("big.bin", b"x" * 2_000_000)},
    )
    assert response.status_code == 413
    assert gateway_calls(sandbox) == 0


@pytest.mark.parametrize(
    ("name", "value"), [("X-Bad", "a\r\nInjected: yes"), ("X-Long", "v" * 10_000)]
)
def test_bad_header_rows_are_form_errors(app, sandbox, agent, name, value):
    page = invoke(agent, app, demo.ECHO, "{}", header_name=name, header_value=value)
    assert page.status_code == 400
    assert "must be one line" in visible_text(page)
    assert gateway_calls(sandbox) == 0


def test_extra_form_fields_are_ignored(app, sandbox, agent):
    invoke(
        agent,
        app,
        demo.ECHO,
        "{}",
        account_id="666",
        url="http://evil.test",
        Authorization="Bearer stolen",
        timeout="999",
    )
    (sent,) = sandbox_log(sandbox, "invoke")
    assert sent["path"].startswith("/api/account/12345678/")
    assert sent["headers"]["Authorization"] == "Bearer"
    assert sent["principal"] == "user:agent"


def test_results_are_inert_text(app, agent):
    page = invoke(
        agent,
        app,
        demo.ECHO,
        '{"x": "<script>alert(1)</script><img src=x onerror=alert(2)>{{7*7}}"}',
    )
    assert "<script>alert(1)" not in page.text
    assert "<img src=x" not in page.text
    assert "{{7*7}}" in visible_text(page) or "49" not in visible_text(page)


def test_bad_event_ids_never_reach_the_gateway(app, sandbox, agent):
    for bad in ("..%2Fadmin", "a%3Fx=1", "x" * 300):
        assert agent.get(f"{app.url}/events/{bad}").status_code == 404
    typed = agent.get(f"{app.url}/events", params={"event_id": "../admin"})
    assert typed.status_code == 400
    assert gateway_calls(sandbox) == 0


def test_viewer_gets_the_permission_explanation(app, sandbox, browser):
    browser.sign_in(app.url, "viewer")
    offered = browser.get(f"{app.url}/functions/{demo.GREETING}")
    assert offered.status_code == 200  # the list is refused, the form is still offered
    assert "did not let you list" in visible_text(offered)
    result = invoke(browser, app, demo.GREETING)
    assert "FaaS-Invocation" in visible_text(result)
    for path in ("/functions", "/events/conversational_command"):
        page = browser.get(f"{app.url}{path}")
        assert page.status_code == 403
        text = visible_text(page)
        assert "FaaS-Invocation" in text and "What to do:" in text
        assert "Traceback" not in page.text


def test_copy_as_never_contains_the_token(app, sandbox, agent):
    result = invoke(agent, app, demo.ECHO, '{"a": 1}')
    assert "curl -sS" not in result.text  # built only when "Copy as" opens
    record = token_record(app, agent)
    # Without script, the result page again; with script, the snippets alone.
    entry = urlsplit(result.url).path
    for page in (copy_as(agent, result), agent.get(f"{app.url}{entry}/snippets")):
        assert page.status_code == 200
        assert "$LP_CLIENT_ID" in page.text and "$LP_CLIENT_SECRET" in page.text
        assert "curl -sS -X POST" in visible_text(page)
        assert "from liveperson_functions.client import FunctionsClient" in visible_text(page)
        for secret in (record["access_token"], record["refresh_token"], record["id_token"]):
            assert secret not in page.text


def test_hostile_names_descriptions_and_logs_are_inert(app, sandbox, agent):
    from sandbox.functions import Catalogue
    from sandbox.functions import Function

    def hostile(data, ctx):
        ctx.info("<script>alert('log')</script>")
        return {"html": "<img src=x onerror=alert(3)>"}

    box = sandbox.app.extensions["sandbox"]
    uuid = "0badc0de-0000-4000-8000-000000000001"
    evil = Function(
        uuid=uuid,
        name="<script>alert('name')</script>",
        description='"><img src=x onerror=alert(1)> {{7*7}}',
        state="Productive",
        event_id=None,
        handler=hostile,
    )
    box.catalogue = Catalogue((*box.catalogue.functions, evil))
    pages = [agent.get(f"{app.url}/functions"), invoke(agent, app, uuid)]
    pages.append(agent.get(f"{app.url}/functions/{uuid}"))
    for page in pages:
        assert "<script>alert(" not in page.text
        assert "<img src=x" not in page.text
        assert ">49<" not in page.text
    assert "{{7*7}}" in visible_text(pages[0]) and "{{7*7}}" in visible_text(pages[2])
    assert "<script>alert('log')</script>" in visible_text(pages[1])  # shown, as text


class TestManyFunctions:
    @pytest.fixture
    def sandbox_settings(self):
        return {"extra_functions": 250}

    def test_the_list_is_paged_and_keeps_its_filters(self, app, agent):
        first = visible_text(agent.get(f"{app.url}/functions"))
        assert "1–100 of 259 matching (259 functions in the account)" in first
        assert "Page 1 of 3" in first
        last = agent.get(f"{app.url}/functions", params={"page": 3})
        assert "201–259 of 259 matching" in visible_text(last)
        drafts = agent.get(f"{app.url}/functions", params={"state": "Draft"})
        if "Next →" in drafts.text:
            assert "state=Draft" in drafts.text.split("Next →")[0].rsplit("href=", 1)[1]
        beyond = agent.get(f"{app.url}/functions", params={"page": 99})
        assert "Page 3 of 3" in visible_text(beyond)


def test_a_shared_list_never_reaches_a_user_who_may_not_list(app, sandbox, agent):
    assert agent.get(f"{app.url}/functions").status_code == 200
    viewer = Browser()
    viewer.sign_in(app.url, "viewer")
    page = viewer.get(f"{app.url}/functions")
    assert page.status_code == 403
    assert "Greeting" not in page.text
    lists_before = calls(sandbox, "list_functions")
    agent.get(f"{app.url}/functions")
    assert calls(sandbox, "list_functions") == lists_before  # the agent's list was reused
    admin = Browser()
    admin.sign_in(app.url, "admin")
    assert "Greeting" in admin.get(f"{app.url}/functions").text
    (probe,) = sandbox_log(sandbox, "list_functions")[lists_before:]
    assert len(probe["query"]["name"][0]) == 36  # a name nothing has: an empty list
