"""What a new user tripped over (issue 21), in Debian's chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser import pages


@pytest.fixture(scope="module")
def axe_script():
    return axe.source()


@pytest.mark.signed_in
@pytest.mark.parametrize("path", ["/", f"/functions/{pages.GREETING}", "/history", "/suites"])
def test_a_skip_link_is_the_first_tab_stop_and_leads_to_the_main_content(page, path):
    page.goto(path)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["y"] >= 0  # shown while focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_the_skip_link_is_there_signed_out(page):
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()


@pytest.mark.signed_in
def test_a_bad_suite_edit_shows_an_error_summary_at_the_top_with_the_focus(
    page, console, axe_script
):
    console.allow(None, "400")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/suites")
    page.get_by_label("New suite name").fill("Broken")
    page.get_by_role("button", name="Create suite").click()
    page.locator("textarea#suite").fill('{"name": "Broken", "cases": [{"name": "x"}]}')
    page.get_by_role("button", name="Save suite").click()
    summary = page.get_by_role("alert").filter(has_text="Not saved")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    assert page.evaluate("() => window.scrollY") == 0
    link = summary.get_by_role("link")
    expect(link).to_contain_text("case 1")
    link.click()
    expect(page.locator("textarea#suite")).to_be_in_viewport()
    assert axe.serious_violations(page, axe_script) == []
