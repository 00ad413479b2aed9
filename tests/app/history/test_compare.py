"""Compare two runs, and a suite case's expected with got, through HTTP against the sandbox."""

import html
import json
import re

import pytest
import redis

from sandbox import functions as demo
from tests.app.suites.test_suites import CASES
from tests.app.suites.test_suites import create
from tests.app.suites.test_suites import run
from tests.support import Browser
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import visible_text


@pytest.fixture
def app_overrides(either_store):
    if either_store:
        redis.Redis.from_url(either_store["REDIS_URL"]).flushdb()  # one Redis for the session
    return either_store


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url, "agent")
    return browser


def entry_id(page):
    return re.search(r"/history/([0-9a-f]{16})", page.url)[1]


def compare_with(browser, app, entry_page):
    """Follow "Compare with…" on a history entry's page."""
    link = html.unescape(re.search(r'href="([^"]+)">Compare with…', entry_page.text)[1])
    return browser.get(app.url + link)


def test_compare_with_the_previous_run_of_the_same_function(app, sandbox, agent):
    first = invoke(agent, app, demo.ECHO, '{"a": 1, "b": "x", "same": [1, 2]}')
    invoke(agent, app, demo.GREETING, '{"name": "Ana"}')  # another function, in between
    second = invoke(agent, app, demo.ECHO, '{"a": 2, "same": [1, 2], "c": true}')
    page = compare_with(agent, app, second)
    assert page.status_code == 200
    assert f"a={entry_id(first)}" in page.url and f"b={entry_id(second)}" in page.url
    text = visible_text(page)
    ids = [sent["headers"]["X-Request-ID"] for sent in sandbox_log(sandbox, "invoke")]
    assert text.index(ids[0]) < text.index(ids[2]) and ids[1] not in text
    # Payload and response (the echo answers the payload): changed, removed, added paths.
    assert text.count("$.a changed 1 2") == 2
    assert text.count('$.b removed "x" —') == 2
    assert text.count("$.c added — true") == 2
    assert "$.same" not in text


def test_pick_any_other_run_and_long_strings_by_line(app, agent):
    lines = "\n".join(f"line {n}" for n in range(12))
    first = invoke(agent, app, demo.ECHO, json.dumps({"log": lines}))
    second = invoke(agent, app, demo.GREETING, '{"name": "Bo"}')
    page = compare_with(agent, app, second)
    assert "No earlier run of this function is in your history" in visible_text(page)
    chosen = agent.get(
        f"{app.url}/history/compare", params={"a": entry_id(first), "b": entry_id(second)}
    )
    assert chosen.status_code == 200 and "$.log removed" in visible_text(chosen)
    changed = invoke(agent, app, demo.ECHO, json.dumps({"log": lines.replace("line 6", "six")}))
    page = compare_with(agent, app, changed)
    assert '<span class="del">-line 6</span>' in page.text
    assert '<span class="ins">+six</span>' in page.text
    assert '<span class="">line 0</span>' not in page.text  # only lines near the change


def test_only_the_users_own_entries(app, agent):
    mine = entry_id(invoke(agent, app, demo.ECHO, "{}"))
    theirs = Browser()
    theirs.sign_in(app.url, "developer")
    own = entry_id(invoke(theirs, app, demo.ECHO, "{}"))
    for params in ({"a": mine, "b": own}, {"a": own, "b": mine}, {"b": mine}, {"a": "nope"}):
        assert theirs.get(f"{app.url}/history/compare", params=params).status_code == 404


def test_a_failed_suite_case_links_to_expected_and_got(app, agent):
    done = run(agent, create(agent, app, "Compared", CASES))
    links = re.findall(r'href="([^"]+)">expected vs got', done.text)
    assert len(links) == 1  # one case failed
    page = agent.get(app.url + html.unescape(links[0]))
    text = visible_text(page)
    assert "Expected vs got: echo, expected wrongly" in text
    assert "$.a[1] changed 3 2" in text
    other = Browser()
    other.sign_in(app.url, "developer")
    assert other.get(app.url + html.unescape(links[0])).status_code == 404


def test_runs_by_event_compare_each_functions_result(app, agent):
    def by_event(command):
        page = agent.get(f"{app.url}/events/conversational_command", params={"skill_id": "1001"})
        payload = json.dumps({"command": command})
        return agent.form_post(
            page, {"payload": payload, "skill_id": "1001"}, action="/events/conversational_command"
        )

    by_event("/balance")
    page = compare_with(agent, app, by_event("/invoice"))
    text = visible_text(page)
    assert text.count('$.command changed "/balance" "/invoice"') == 1  # the payload
    assert f'$["{demo.BILLING_COMMAND}"].command changed "/balance" "/invoice"' in text
