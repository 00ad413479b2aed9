"""The team's workspace in Chromium: environments, a preview and an invocation with variables,
shared payloads; each page axe-clean and without sideways scrolling at 1280 and 390 px."""

import re

from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_layout import DESKTOP
from tests.browser.test_layout import PHONE
from tests.browser.test_layout import axe_script  # noqa: F401 (a fixture)
from tests.browser.test_layout import check
from tests.browser.workspace_screenshots import SECRET
from tests.browser.workspace_screenshots import make_environment
from tests.browser.workspace_screenshots import preview


def test_an_environment_fills_the_payload_and_its_secret_is_never_shown(
    new_context,
    axe_script,  # noqa: F811
):
    page = new_context().new_page()
    pages.sign_in(page, "developer")
    make_environment(page, "Browser env")
    environment = page.url
    assert SECRET[1] not in page.content()

    preview(page, "Browser env (shared)")
    shown = page.locator(".preview pre")
    expect(shown).to_contain_text('"conversationId": "conv-5f2c"')
    expect(shown).to_contain_text('"apiKey": "••••"')
    expect(shown).to_contain_text('"attempt": 2')
    invoke_page = page.url
    result = pages.press_invoke(page)
    expect(result).to_be_visible()
    expect(page.get_by_text("Sent with the environment “Browser env”")).to_be_attached()
    assert SECRET[1] not in page.content()
    entry = page.url

    page.get_by_label("Save this payload as").fill("Team lookup")
    page.get_by_label("Share with the account").check()
    page.get_by_role("button", name="Save payload").click()
    expect(page.get_by_role("status").first).to_contain_text("shared with the account")
    page.goto("/payloads")
    page.get_by_role("link", name="Team lookup").last.click()
    shared_payload = page.url
    assert re.search(r"/shared/payloads/[0-9a-f]+$", shared_payload)

    page.goto("/suites")
    page.get_by_label("New suite name").fill("Team suite")
    page.get_by_role("button", name="Create suite").click()
    page.get_by_role("button", name="Share with the account").click()
    expect(page.get_by_text("Shared with the account by developer")).to_be_visible()
    suite = page.url

    for path in (
        "/environments",
        environment,
        invoke_page,
        entry,
        "/payloads",
        shared_payload,
        "/suites",
        suite,
    ):
        page.goto(path)
        for viewport in (DESKTOP, PHONE):
            check(page, path, axe_script, viewport)
        page.set_viewport_size(DESKTOP)
    preview(page, "Browser env (shared)")
    for viewport in (DESKTOP, PHONE):
        check(page, "the invoke page's preview", axe_script, viewport)
