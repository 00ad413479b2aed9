"""Test suites in the app, through HTTP against the sandbox: edit, run, add, import, export."""

import html
import json
import re
import time
from urllib.parse import urljoin

import pytest

from sandbox import functions as demo
from tests.support import Browser
from tests.support import calls
from tests.support import visible_text

CASES = [
    {
        "name": "greets Ada",
        "function": demo.GREETING,
        "payload": {"name": "Ada"},
        "expect": {"status": 200, "json": [{"path": "$.greeting", "equals": "Hello, Ada!"}]},
    },
    {
        "name": "order lookup fails",
        "function": demo.FAILING,
        "payload": {"orderId": "7"},
        "expect": {"outcome": "function-error", "status": 901},
    },
    {
        "name": "echo, expected wrongly",
        "function": demo.ECHO,
        "payload": {"a": [1, 2]},
        "expect": {"json": [{"path": "$", "equals": {"a": [1, 3]}}]},
    },
]


@pytest.fixture
def app_overrides(either_store):
    return either_store


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url, "agent")
    return browser


def create(browser, app, name, cases=()):
    listing = browser.get(f"{app.url}/suites")
    page = browser.form_post(listing, {"name": name}, action="/suites")
    assert page.status_code == 200 and f"<h1>{name}</h1>" in page.text
    if cases:
        text = json.dumps({"name": name, "cases": list(cases)})
        path = re.search(r'action="(/suites/[0-9a-f]+/edit)"', page.text).group(1)
        page = browser.form_post(page, {"suite": text}, action=path)
        assert f"Saved “{name}” with {len(cases)} cases" in page.text
    return page


def run(browser, page, **fields):
    """Press Run, then reload the run page (as a browser without JS would) until it is done."""
    path = re.search(r'action="(/suites/[0-9a-f]+/run)"', page.text).group(1)
    started = browser.form_post(page, fields, action=path, allow_redirects=False)
    assert started.status_code == 303
    url = started.headers["Location"]
    deadline = time.monotonic() + 30
    while True:
        shown = browser.get(urljoin(page.url, url))
        if "Running:" not in shown.text:
            return shown
        assert 'http-equiv="refresh"' in shown.text
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)


def test_a_run_shows_pass_fail_with_expected_and_got_and_never_reruns(app, sandbox, agent):
    page = create(agent, app, "Smoke", CASES)
    assert "greets Ada" in visible_text(page)
    done = run(agent, page)
    text = visible_text(done)
    assert "2 passed, 1 failed of 3 cases" in text
    assert text.count("✓ pass") == 2 and text.count("✗ fail") == 1
    assert '<span class="del">-    3</span>' in done.text
    assert '<span class="ins">+    2</span>' in done.text
    assert calls(sandbox, "invoke") == 3
    # Reloading the finished run sends nothing again.
    again = agent.get(done.url)
    assert "2 passed, 1 failed" in visible_text(again) and calls(sandbox, "invoke") == 3
    history = visible_text(agent.get(f"{app.url}/history"))
    assert "Smoke › greets Ada" in history and "Smoke › echo, expected wrongly" in history


def test_a_history_entry_becomes_a_case_that_expects_it_again(app, sandbox, agent):
    page = agent.get(f"{app.url}/functions/{demo.GREETING}")
    agent.form_post(page, {"payload": '{"name": "Bo"}'}, action=f"/functions/{demo.GREETING}")
    history = agent.get(f"{app.url}/history")
    entry = agent.get(app.url + re.search(r'href="(/history/[0-9a-f]{16})"', history.text)[1])
    add_link = html.unescape(re.search(r'href="([^"]+)">Add to a suite', entry.text)[1])
    form = agent.get(app.url + add_link)
    case = json.loads(
        html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form.text, re.S)[1])
    )
    assert case["function"] == demo.GREETING and case["payload"] == {"name": "Bo"}
    assert case["expect"] == {
        "outcome": "success",
        "status": 200,
        "json": [{"path": "$", "equals": {"greeting": "Hello, Bo!"}}],
    }
    suite = agent.form_post(form, {"new_suite": "Regression"}, action="/suites/add")
    assert "Added the case to “Regression”" in suite.text
    assert "Hello, Bo!" in html.unescape(suite.text)
    assert "1 passed, 0 failed of 1 case" in visible_text(run(agent, suite))
    assert calls(sandbox, "invoke") == 2


def test_a_saved_payload_becomes_a_case(app, agent):
    create(agent, app, "Saved")
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    fields = {"kind": "function", "target": demo.ECHO, "payload": '{"k": 1}', "name": "one"}
    agent.post(f"{app.url}/payloads", data={"csrf_token": agent.csrf(page), **fields})
    listing = agent.get(f"{app.url}/payloads")
    add_link = html.unescape(re.search(r'href="([^"]+)">Add to a suite', listing.text)[1])
    form = agent.get(app.url + add_link)
    chosen = re.search(r'<option value="([0-9a-f]+)">Saved</option>', form.text)[1]
    suite = agent.form_post(form, {"suite_id": chosen}, action="/suites/add")
    assert "Added the case to “Saved”" in suite.text and demo.ECHO in suite.text


def test_bad_edits_keep_the_text_and_name_the_entry(app, agent):
    page = create(agent, app, "Edits")
    path = re.search(r'action="(/suites/[0-9a-f]+/edit)"', page.text).group(1)
    typed = '{"name": "Edits", "cases": [{"function": "nope"}, {"event": "x", "expect": 1}]}'
    bad = agent.form_post(page, {"suite": typed}, action=path)
    assert bad.status_code == 400
    assert 'case 1: "function" is not a valid UUID' in html.unescape(bad.text)
    assert 'case 2: "expect" must be an object' in html.unescape(bad.text)
    assert html.escape(typed, quote=True) in bad.text or typed in html.unescape(bad.text)


def test_export_and_import_with_per_entry_errors(app, agent):
    create(agent, app, "Smoke", CASES)
    exported = agent.get(f"{app.url}/suites/export")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="suites.json"'
    # Redis is shared by the whole test session: keep only this test's suite.
    data = {"suites": [s for s in exported.json()["suites"] if s["name"] == "Smoke"][:1]}
    assert data["suites"][0]["cases"][0] == CASES[0]
    data["suites"][0]["name"] = "Copy"
    data["suites"].append({"name": "Broken", "cases": [{"function": "nope"}]})
    listing = agent.get(f"{app.url}/suites")
    imported = post_file(agent, listing, json.dumps(data).encode())
    text = html.unescape(imported.text)
    assert "Imported 1 suite." in text
    assert 'Not imported: suite 2: "Broken": case 1: "function" is not a valid UUID' in text
    assert "Copy" in visible_text(agent.get(f"{app.url}/suites"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "the file nests deeper than 64 levels"),
        (b'{"suites": [{"name": "\\udfff", "cases": []}]}', "unpaired surrogate"),
        (b"\xc3\x28", "not UTF-8"),
        (b'{"suites": 5}', '"suites" must be a list'),
    ],
)
def test_bad_files_get_a_clear_error(app, agent, body, message):
    imported = post_file(agent, agent.get(f"{app.url}/suites"), body)
    assert imported.status_code == 200
    assert "Nothing imported: " in imported.text and message in html.unescape(imported.text)


def test_a_huge_file_is_refused_without_a_500(app, agent):
    imported = post_file(agent, agent.get(f"{app.url}/suites"), b" " * (3 * 1024 * 1024))
    assert imported.status_code == 413


def post_file(browser, listing, body):
    return browser.post(
        listing.url.rsplit("/suites", 1)[0] + "/suites/import",
        data={"csrf_token": browser.csrf(listing)},
        files={"file": ("suites.json", body, "application/json")},
    )


def test_suites_are_per_user(app, agent):
    page = create(agent, app, "Mine")
    other = Browser()
    other.sign_in(app.url, "admin")
    assert other.get(page.url).status_code == 404
    assert "Mine" not in visible_text(other.get(f"{app.url}/suites"))
