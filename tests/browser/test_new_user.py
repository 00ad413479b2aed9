"""What a new user tripped over (issue 21), in Debian's chromium."""

import json

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


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Lines of an element's text that start in the middle of a word (not after _ . - / or a space).
MID_WORD_BREAKS = """element => {
  const broken = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    let top = null;
    for (let i = 0; i < text.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || !text[i].trim()) continue;
      if (top !== null && rect.top > top + 2 && /[A-Za-z0-9]/.test(text[i - 1] || "")) {
        broken.push(text.slice(0, i) + "|" + text.slice(i));
      }
      top = rect.top;
    }
  }
  return broken;
}"""


@pytest.mark.signed_in
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_event_ids_never_break_mid_word_in_tables(page, viewport):
    page.set_viewport_size(viewport)
    pages.invoke(page, f"/events/{pages.EVENT}")
    for path, cells in (("/functions", "td.event"), ("/history", "table.list td")):
        page.goto(path)
        for cell in page.locator(cells).all():
            assert cell.evaluate(MID_WORD_BREAKS) == [], (path, cell.inner_text())


@pytest.mark.signed_in
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize(("path", "name"), [("/functions", "open"), ("/history", "q")])
def test_search_fields_show_their_whole_placeholder(page, viewport, path, name):
    page.set_viewport_size(viewport)
    page.goto(path)
    field = page.locator(f"input[name={name}]")
    room, needed = field.evaluate(
        """input => {
            const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            return [input.clientWidth - padding, context.measureText(input.placeholder).width];
        }"""
    )
    assert needed <= room


@pytest.mark.signed_in
def test_the_phone_view_has_no_ctrl_enter_hint(page):
    page.goto(f"/functions/{pages.GREETING}")
    hint = page.get_by_text("Ctrl+Enter (⌘+Enter) invokes")
    expect(hint).to_be_visible()
    page.set_viewport_size(PHONE)
    expect(hint).to_be_hidden()


@pytest.mark.signed_in
def test_each_copy_button_has_its_own_name(page):
    result = pages.invoke(page, f"/functions/{pages.GREETING}", {"name": "Ana"})
    result.get_by_text("Copy as curl / Python / Node").click()
    for name in ("curl command", "Python script", "Node script", "response"):
        expect(result.get_by_role("button", name=f"Copy the {name}", exact=True)).to_be_visible()


@pytest.mark.signed_in
def test_the_size_check_calls_a_big_payload_too_large_not_invalid(page):
    page.goto(f"/functions/{pages.ECHO}")
    area = page.get_by_label("Payload (JSON)")
    area.fill(json.dumps({"blob": "x" * 300_000}))
    message = page.locator("#payload-error")
    expect(message).to_contain_text("The payload is larger than 256 KB, the most the gateway")
    expect(message).not_to_contain_text("Not valid JSON")
    area.fill('{"a": ')
    expect(message).to_contain_text("Not valid JSON yet")


def assert_accessible_at_both_widths(page, axe_script):
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        assert axe.serious_violations(page, axe_script) == [], (page.url, viewport)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (page.url, viewport, widths)
    page.set_viewport_size(DESKTOP)


@pytest.mark.signed_in
def test_the_new_pages_are_accessible_and_fit_a_phone(page, axe_script):
    page.goto(f"/functions/{pages.DRAFT}")
    expect(page.get_by_role("button", name="Invoke")).to_be_disabled()
    assert_accessible_at_both_widths(page, axe_script)
    for payload in ('{"v": 1}', '{"v": 2}'):
        page.goto(f"/functions/{pages.ECHO}")
        page.get_by_label("Payload (JSON)").fill(payload)
        page.get_by_label("Save this payload as").fill("twice")
        page.get_by_role("button", name="Save payload").click()
    expect(page.get_by_role("heading", name="Replace the saved payload “twice”?")).to_be_visible()
    assert_accessible_at_both_widths(page, axe_script)
    page.get_by_role("link", name="Keep the old one").click()
    expect(page.get_by_label("Payload (JSON)")).to_have_value('{"v": 2}')
    page.goto("/payloads")
    item = {"kind": "function", "target": pages.ECHO, "name": "twice", "payload": '{"v": 3}'}
    upload = json.dumps({"savedPayloads": [item]}).encode()
    page.get_by_label("Import an exported file").set_input_files(
        {"name": "payloads.json", "mimeType": "application/json", "buffer": upload}
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Replace saved payloads?")).to_be_visible()
    assert_accessible_at_both_widths(page, axe_script)
    page.get_by_role("button", name="Replace it").click()
    expect(page.get_by_text("replaced 1 payload of that name: “twice”")).to_be_visible()
