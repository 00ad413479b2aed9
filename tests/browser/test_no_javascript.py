"""Every step of the main path works with JavaScript disabled."""

import json

from playwright.sync_api import expect

from tests.browser import pages


def test_main_path_without_javascript(new_context, servers):
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
    payload.fill('{"name": "Ana"}')
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("Success")
    assert json.loads(result.locator("#response").inner_text()) == {"greeting": "Hello, Ana!"}
    # ...and the folded parts are plain <details>, which open without it.
    result.get_by_text("Copy as curl / Python").click()
    expect(result.locator("#curl")).to_contain_text("LP_CLIENT_SECRET")

    pages.sign_out(page)
    assert page.url == f"{servers.url}/"
    expect(page.get_by_role("link", name="Sign in with LivePerson")).to_be_visible()
