"""Whole responses up to 1 MB for a user's 20 latest invocations: shown, copyable, downloadable;
older ones trimmed, and the page says so. On both stores."""

import html
import json
from urllib.parse import urlsplit

import pytest

from sandbox import functions as demo
from tests.support import Browser
from tests.support import invoke
from tests.support import visible_text

# An Echo payload whose pretty-printed answer is well over 64 KB and under 1 MB.
BIG = json.dumps({"items": [f"item {n:06d}" for n in range(12_000)]})
# One whose answer is over 1 MB: a deep nest of small numbers grows tenfold when indented.
HUGE = json.dumps([[[[[[[[[[[1] * 60_000]]]]]]]]]])


@pytest.fixture
def app_overrides(either_store):
    return either_store


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url, "agent")
    return browser


def response_of(page):
    shown = page.text.split('<pre id="response"', 1)[1].split(">", 1)[1].split("</pre>")[0]
    return json.loads(html.unescape(shown))


def test_a_big_response_is_whole_on_the_page_and_in_the_download(app, agent):
    page = invoke(agent, app, demo.ECHO, BIG)
    assert page.status_code == 200
    assert response_of(page) == json.loads(BIG)
    assert "only the first" not in visible_text(page)
    entry_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    download = agent.get(f"{app.url}/history/{entry_id}/response")
    assert download.headers["Content-Type"] == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.json() == json.loads(BIG)
    assert 'aria-label="Download the response"' in page.text


def test_after_20_more_big_ones_it_is_trimmed_and_the_page_says_so(app, agent):
    # Whole responses are kept for the newest 20 that needed it: at least the 20 latest.
    page = invoke(agent, app, demo.ECHO, BIG)
    for _ in range(19):
        invoke(agent, app, demo.ECHO, BIG)
    assert response_of(agent.get(page.url)) == json.loads(BIG)  # still among the 20 latest
    invoke(agent, app, demo.ECHO, BIG)
    again = agent.get(page.url)
    text = visible_text(again)
    assert "kept for your 20 latest invocations; this one is older" in text
    assert "so only the first 65,536 are kept" in text
    entry_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    assert len(agent.get(f"{app.url}/history/{entry_id}/response").text) == 65_536


def test_a_response_over_1_mb_is_cut_and_the_page_says_why(app, agent):
    page = invoke(agent, app, demo.ECHO, HUGE)
    text = visible_text(page)
    assert "more than the 1 MB kept whole, so only the first 65,536 are kept" in text


def test_another_user_cannot_download_it(app, agent):
    page = invoke(agent, app, demo.ECHO, BIG)
    entry_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    other = Browser()
    other.sign_in(app.url, "developer")
    assert other.get(f"{app.url}/history/{entry_id}/response").status_code == 404


def test_the_scripts_result_panel_shows_it_whole_too(app, agent):
    path = f"/functions/{demo.ECHO}"
    page = agent.get(app.url + path)
    panel = agent.form_post(page, {"payload": BIG}, action=path, headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "HX-Push-Url" in panel.headers
    assert response_of(panel) == json.loads(BIG)
    assert "only the first" not in visible_text(panel)


def test_an_events_results_download_as_one_json_file(app, agent):
    page = invoke_event(agent, app)
    assert 'aria-label="Download the results"' in page.text
    entry_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    rows = agent.get(f"{app.url}/history/{entry_id}/response").json()
    assert [row["uuid"] for row in rows] == [demo.SUMMARISER, demo.BILLING_COMMAND]


def invoke_event(browser, app):
    path = f"/events/{demo.COMMAND_EVENT}"
    page = browser.get(app.url + path)
    return browser.form_post(page, {"payload": '{"command": "/balance"}'}, action=path)
