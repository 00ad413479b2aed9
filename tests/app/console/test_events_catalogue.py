"""The events catalogue says which documented events the account implements (isImplemented),
asked once per event and cached: a second view within a minute asks the gateway nothing."""

import re

from app.console import events as catalogue
from sandbox import functions as demo
from tests.support import calls
from tests.support import visible_text


def answers(page):
    """Map each catalogue row's event id to what its "In this account" cell says."""
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    found = {}
    for row in rows:
        event = re.search(r'<code class="small">([^<]+)</code>', row)
        cell = re.search(r'class="implemented">(.*?)</td>', row, re.S)
        if event and cell:
            found[event.group(1)] = " ".join(re.sub(r"<[^>]+>", " ", cell.group(1)).split())
    return found


def test_catalogue_shows_what_the_account_implements_and_caches_it(app, sandbox, browser):
    browser.sign_in(app.url)
    page = browser.get(f"{app.url}/events")
    assert page.status_code == 200
    shown = answers(page)
    assert set(shown) == {e.event_id for e in catalogue.EVENTS}
    assert shown[demo.COMMAND_EVENT] == "✓ implemented"
    assert all(v == "not implemented" for k, v in shown.items() if k != demo.COMMAND_EVENT)
    assert calls(sandbox, "is_implemented") == len(catalogue.EVENTS)
    again = browser.get(f"{app.url}/events")
    assert answers(again) == shown
    assert calls(sandbox, "is_implemented") == len(catalogue.EVENTS)  # all from the cache


def test_the_page_still_works_when_the_gateway_refuses(app, sandbox, browser):
    browser.sign_in(app.url, "viewer")  # may read, not invoke: the gateway answers 403
    page = browser.get(f"{app.url}/events")
    assert page.status_code == 200
    assert set(answers(page).values()) == {"could not check"}
    assert calls(sandbox, "is_implemented") == len(catalogue.EVENTS)
    assert "Conversational command" in visible_text(page)
