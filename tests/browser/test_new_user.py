"""What a new user tripped over (issue 21), in Debian's chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser import pages


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
