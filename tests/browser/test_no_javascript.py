"""Every step of the main path works with JavaScript disabled: the invoke form posts, the
browser is sent to the result's own page (POST → 303 → GET), opened at the result."""

import json
import re

from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_layout import PHONE
from tests.browser.test_layout import in_view


def test_main_path_without_javascript(new_context, servers, console):
    console.allow(None, "status of 400")
    page = new_context(java_script_enabled=False).new_page()
    pages.sign_in(page)
    expect(page.locator("header .who")).to_have_text("agent")

    page.locator("header").get_by_role("link", name="Functions", exact=True).click()
    expect(page.locator("table.list tbody tr")).to_have_count(9)
    page.get_by_role("link", name="Greeting", exact=True).click()

    payload = page.get_by_label("Payload (JSON)")
    payload.fill('{"name": ')
    # No script runs: nothing checks the JSON as it is typed...
    expect(page.locator("#payload-error")).to_be_hidden()
    # ...the server does, and gives the page back with the message and what was typed.
    page.get_by_role("button", name="Invoke", exact=True).click()
    expect(page.locator("#payload-error")).to_contain_text("not valid JSON")
    expect(payload).to_have_value('{"name": ')
    payload.fill('{"name": "Ana"}')
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("Success")
    assert re.search(r"/history/[0-9a-f]{16}#result$", page.url)
    assert json.loads(result.locator("#response").inner_text()) == {"greeting": "Hello, Ana!"}
    # ...and the folded parts are plain <details>, which open without it; "Copy as" is the
    # result page again, with its snippets.
    result.get_by_text("Copy as curl / Python").click()
    show = "Show the curl command and the Python and Node scripts"
    result.get_by_role("link", name=show).click()
    expect(page.locator("#curl")).to_contain_text("LP_CLIENT_SECRET")
    assert page.url.endswith("?copy#copy-as")

    pages.sign_out(page)
    assert page.url == f"{servers.url}/"
    expect(page.get_by_role("link", name="Sign in with LivePerson")).to_be_visible()


def test_a_phone_without_javascript_opens_the_result_page_at_the_result(new_context):
    page = new_context(java_script_enabled=False).new_page()
    pages.sign_in(page)
    page.set_viewport_size(PHONE)
    page.goto(f"/functions/{pages.FAILING}")
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("The function failed")
    assert in_view(page, page.locator("#result-title"))  # not the form above it
