"""With script (htmx), in Chromium: one request per invocation, the result's own address in the
address bar, Back and Reload that never invoke again, nothing in the browser's storage; focus on
the result, its outcome announced, and a phone shown the result rather than the form."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser import pages
from tests.browser.test_layout import DESKTOP
from tests.browser.test_layout import PHONE
from tests.browser.test_layout import check
from tests.browser.test_layout import in_view

ENTRY = re.compile(r"/history/[0-9a-f]{16}$")


def invocations(servers):
    """Invocations the sandbox's gateway has received, by UUID and by event."""
    counted = requests.get(f"{servers.sandbox_url}/_sandbox/calls", timeout=5).json()
    return counted.get("invoke", 0) + counted.get("invoke_event", 0)


def watch_requests(page):
    """Record the page's requests to the app but for its static files: (method, path)."""
    sent = []

    def seen(request):
        path = re.sub(r"^https?://[^/]+", "", request.url)
        if not path.startswith("/static/"):
            sent.append((request.method, path))

    page.on("request", seen)
    return sent


@pytest.mark.signed_in
def test_one_request_per_invocation_and_back_or_reload_never_invoke(page, servers):
    path = f"/functions/{pages.GREETING}"
    page.goto(path)
    sent, before = watch_requests(page), invocations(servers)
    page.get_by_label("Payload (JSON)").fill('{"name": "Ana"}')
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("Success")
    expect(page).to_have_url(ENTRY)
    entry = page.url
    expect(page).to_have_title(f"Invocation {entry.rsplit('/', 1)[1]} · Functions Invoker")
    # One request: the form's POST; no GET of the result's page, nothing else.
    assert sent == [("POST", path)]
    assert invocations(servers) == before + 1
    # The form keeps what was typed; the result has its heading focused and is announced.
    expect(page.get_by_label("Payload (JSON)")).to_have_value('{"name": "Ana"}')
    expect(page.locator("#result-title")).to_be_focused()
    expect(page.locator("#announce")).to_have_text("Success: HTTP 200.")
    expect(page.locator("#announce")).to_have_attribute("role", "status")
    # htmx as configured: no history snapshots, nothing evaluated, no style of its own (CSP).
    config = page.evaluate(
        """() => [htmx.config.historyCacheSize, htmx.config.refreshOnHistoryMiss,
            htmx.config.allowEval, htmx.config.includeIndicatorStyles,
            document.querySelectorAll("style, [style]").length]"""
    )
    assert config == [0, True, False, False, 0]
    # Nothing of the payload or the result in the browser's storage (htmx's history cache off).
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])"
    )
    assert "Ana" not in stored and "Hello" not in stored
    # Back loads the invoke page from the server; Forward and Reload load the result's page.
    page.go_back()
    expect(page).to_have_url(f"{servers.url}{path}")
    expect(page.locator("#result")).to_contain_text("The result appears here")
    # Back reloaded the invoke page: htmx handles the next history step once it has started.
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")
    page.go_forward()
    expect(page).to_have_url(entry)
    expect(page.locator("#result")).to_contain_text("Hello, Ana!")
    page.reload()
    expect(page.locator("#result")).to_contain_text("Hello, Ana!")
    expect(page.get_by_label("Payload (JSON)")).to_have_value('{"name": "Ana"}')
    assert [m for m, _ in sent].count("POST") == 1
    assert ("GET", path) in sent and ("GET", entry.removeprefix(servers.url)) in sent
    assert invocations(servers) == before + 1


@pytest.mark.signed_in
def test_run_again_on_a_result_page_and_by_event(page, servers):
    result = pages.invoke(page, f"/events/{pages.EVENT}")
    expect(result.get_by_role("heading", name="2 functions ran")).to_be_visible()
    page.reload()  # the result's own page; its form invokes again, in place
    first = page.url
    sent, before = watch_requests(page), invocations(servers)
    result = pages.press_invoke(page)
    expect(result.get_by_role("heading", name="2 functions ran")).to_be_visible()
    expect(page).to_have_url(ENTRY)
    assert page.url != first
    assert sent == [("POST", f"/events/{pages.EVENT}")]
    assert invocations(servers) == before + 1


@pytest.mark.signed_in
def test_copy_as_is_fetched_when_opened(page):
    result = pages.invoke(page, f"/functions/{pages.ECHO}", {"copy": 1})
    sent = watch_requests(page)
    result.get_by_text("Copy as curl / Python").click()
    expect(result.locator("#curl")).to_contain_text("LP_CLIENT_SECRET")
    expect(result.get_by_role("button", name="Copy").first).to_be_visible()
    (got,) = sent
    assert got[0] == "GET" and got[1].endswith("/snippets")


@pytest.mark.signed_in
def test_a_form_error_comes_back_in_place_with_what_was_typed(page, servers, console):
    console.allow(None, "status of 400")
    # (A draft no longer serves: it opens read-only, Invoke off (issue 21 item 7).)
    page.goto(f"/functions/{pages.ECHO}")
    before = invocations(servers)
    page.get_by_label("Payload (JSON)").fill('{"typed": ')
    page.get_by_role("button", name="Invoke", exact=True).click()
    expect(page.locator("#payload-error")).to_contain_text("The payload is not valid JSON")
    expect(page.get_by_label("Payload (JSON)")).to_have_value('{"typed": ')
    expect(page).to_have_url(f"{servers.url}/functions/{pages.ECHO}")
    assert invocations(servers) == before


@pytest.mark.signed_in
def test_busy_while_it_runs_then_ready_again(page, servers):
    # The sandbox's slow function runs until its execution limit (1 s in these tests).
    page.goto(f"/functions/{pages.SLOW}")
    invoke = page.get_by_role("button", name="Invoke", exact=True)
    sent = watch_requests(page)
    invoke.click()
    expect(invoke).to_be_disabled()
    expect(page.get_by_text("Invoking…")).to_be_visible()
    invoke.click(force=True)  # a second press while it runs sends nothing
    page.get_by_label("Payload (JSON)").press("Control+Enter")
    expect(page.locator("#result .badge")).to_have_text("The function failed")
    expect(invoke).to_be_enabled()
    expect(page.get_by_text("Invoking…")).to_be_hidden()
    assert [m for m, _ in sent] == ["POST"]


@pytest.mark.signed_in
def test_a_phone_is_shown_the_result_and_it_stays_accessible(page):
    page.set_viewport_size(PHONE)
    page.goto(f"/functions/{pages.FAILING}")
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("The function failed")
    assert in_view(page, page.locator("#result-title"))  # not the form above it
    script = axe.source()
    for viewport in (PHONE, DESKTOP):
        check(page, "an invoke page with a result put in by the script", script, viewport)


@pytest.mark.signed_in
def test_a_payload_over_256_kb_is_not_sent(page):
    page.goto(f"/functions/{pages.ECHO}")
    sent = watch_requests(page)
    area = page.get_by_label("Payload (JSON)")
    area.fill('{"big": "' + "x" * 270_000 + '"}')
    page.get_by_role("button", name="Invoke", exact=True).click()
    expect(page.locator("#payload-error")).to_contain_text("larger than 256 KB")
    expect(area).to_be_focused()
    expect(page.locator("#result")).to_contain_text("The result appears here")
    assert sent == []


@pytest.mark.signed_in
def test_no_answer_is_said_and_the_form_is_ready_again(page, console):
    for logged in ("ERR_FAILED", "htmx:sendError", "htmx:afterRequest"):  # and htmx's word
        console.allow(None, logged)
    page.goto(f"/functions/{pages.ECHO}")
    page.route(
        "**/functions/*",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    invoke = page.get_by_role("button", name="Invoke", exact=True)
    invoke.click()
    expect(page.get_by_role("alert").filter(has_text="No answer from the app")).to_be_visible()
    expect(invoke).to_be_enabled()


@pytest.mark.signed_in
def test_save_payload_stays_a_plain_form(page):
    page.goto(f"/functions/{pages.ECHO}")
    page.get_by_label("Payload (JSON)").fill('{"kept": true}')
    page.get_by_label("Save this payload as").fill("kept by the browser test")
    page.get_by_role("button", name="Save payload").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved the payload as")
    assert "saved=kept" in page.url  # the page the save redirected to, loaded whole
    expect(page.get_by_label("Payload (JSON)")).to_have_value('{"kept": true}')
