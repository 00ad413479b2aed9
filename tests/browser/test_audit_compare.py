"""The audit trail and the compare pages in chromium: axe, 390 px, and without JavaScript."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_layout import DESKTOP
from tests.browser.test_layout import PHONE
from tests.browser.test_layout import check


@pytest.fixture(scope="module")
def axe_script():
    from tests.browser import axe

    return axe.source()


def test_compare_two_runs_without_javascript_side_by_side_then_stacked(
    new_context, agent_session, servers, axe_script
):
    page = new_context(java_script_enabled=False, storage_state=agent_session).new_page()
    pages.invoke(page, f"/functions/{pages.ECHO}", {"a": 1, "b": "x"})
    pages.invoke(page, f"/functions/{pages.ECHO}", {"a": 2, "c": True})
    page.get_by_role("link", name="Compare with…").click()
    expect(page.get_by_role("heading", name="Compare two runs")).to_be_visible()
    expect(page.get_by_role("cell", name="$.c").first).to_be_visible()
    compared = page.url.removeprefix(servers.url)
    # Picking another run is a plain GET form.
    picker = page.get_by_label("Compare B")
    picker.select_option(index=picker.locator("option").count() - 1)
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.get_by_role("heading", name="What differs, from A to B")).to_be_visible()
    assert page.url.removeprefix(servers.url) != compared
    # axe runs as a script: in a page that runs them.
    page = new_context(storage_state=agent_session).new_page()
    page.goto(compared)
    for viewport in (DESKTOP, PHONE):
        check(page, "/history/compare", axe_script, viewport)
    a, b = (page.locator(".sides > section").nth(n).bounding_box() for n in (0, 1))
    assert b["y"] >= a["y"] + a["height"]  # stacked at 390 px
    page.set_viewport_size(DESKTOP)
    a, b = (page.locator(".sides > section").nth(n).bounding_box() for n in (0, 1))
    assert b["x"] >= a["x"] + a["width"] and b["y"] == a["y"]  # side by side


@pytest.mark.signed_in
def test_a_failed_case_opens_expected_vs_got(page, axe_script):
    page.goto("/suites")
    page.get_by_label("New suite name").fill("Compared")
    page.get_by_role("button", name="Create suite").click()
    case = {"name": "echo", "function": pages.ECHO, "payload": {"a": [1, 2]}}
    case["expect"] = {"json": [{"path": "$", "equals": {"a": [1, 3]}}]}
    page.locator("textarea#suite").fill(json.dumps({"name": "Compared", "cases": [case]}))
    page.get_by_role("button", name="Save suite").click()
    page.get_by_role("button", name="Run 1 case").click()
    page.get_by_role("link", name="expected vs got").click()
    expect(page.get_by_role("heading", name="Expected vs got: echo")).to_be_visible()
    expect(page.get_by_role("cell", name="$.a[1]")).to_be_visible()
    for viewport in (DESKTOP, PHONE):
        check(page, "expected vs got", axe_script, viewport)


def test_the_audit_trail_for_an_admin_and_the_403_for_an_agent(
    new_context, agent_session, console, axe_script
):
    console.allow(None, "403")
    agent = new_context(storage_state=agent_session).new_page()
    agent.goto("/audit")
    expect(agent.get_by_role("heading", name="Administrators only")).to_be_visible()
    for viewport in (DESKTOP, PHONE):
        check(agent, "/audit (refused)", axe_script, viewport)
    admin = new_context().new_page()
    pages.sign_in(admin, "admin")
    admin.locator("header").get_by_role("link", name="Audit", exact=True).click()
    expect(admin.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(admin.get_by_role("cell", name="was refused: the audit trail").first).to_be_visible()
    admin.get_by_label("User").fill("agent")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.get_by_role("link", name="Export as CSV")).to_have_attribute(
        "href", "/audit/export.csv?user=agent"
    )
    for viewport in (DESKTOP, PHONE):
        check(admin, "/audit", axe_script, viewport)
