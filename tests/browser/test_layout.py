"""Every page at 1280×800 and 390 px: axe-core finds nothing serious, nothing scrolls sideways;
the invoke page keeps Invoke in view, puts the result beside the request, works by keyboard."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser import pages

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIGNED_IN = [
    "/",
    "/functions",
    f"/functions/{pages.GREETING}",
    "/functions/00000000-0000-4000-8000-00000000abcd",
    "/events",
    f"/events/{pages.EVENT}",
    "/history",
    "/payloads",
    f"/payloads/delete?kind=function&target={pages.ECHO}&name=example",
    "/flow",
    "/logout/everywhere",
    "/no-such-page",
]


@pytest.fixture(scope="module")
def axe_script():
    return axe.source()


def check(page, path, axe_script, viewport):
    page.set_viewport_size(viewport)
    found = axe.serious_violations(page, axe_script)
    assert found == [], f"{path} at {viewport['width']} px: {json.dumps(found, indent=1)}"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{path} scrolls sideways at {viewport['width']} px: {widths}"


@pytest.mark.signed_in
def test_every_signed_in_page_is_accessible_and_fits_a_phone(page, servers, console, axe_script):
    console.allow(None, "404")
    result = pages.invoke(page, f"/functions/{pages.FAILING}", {"orderId": "42"})
    expect(result).to_be_visible()
    for path in [*SIGNED_IN, page.url.removeprefix(servers.url)]:
        page.goto(path)
        for viewport in (DESKTOP, PHONE):
            check(page, path, axe_script, viewport)


def test_signed_out_pages_are_accessible_and_fit_a_phone(page, console, axe_script):
    console.allow(None, "404")
    for path in ("/", "/no-such-page"):
        page.goto(path)
        for viewport in (DESKTOP, PHONE):
            check(page, path, axe_script, viewport)
    pages.go_to_sentinel(page)
    for viewport in (DESKTOP, PHONE):
        check(page, "the sandbox's sign-in page", axe_script, viewport)
    page.set_viewport_size(DESKTOP)
    pages.sandbox_sign_in(page, "agent")
    pages.sign_out(page)
    pages.go_to_sentinel(page)  # the sandbox remembers agent: continue, or another account
    expect(page.get_by_role("button", name="Use another account")).to_be_visible()
    for viewport in (DESKTOP, PHONE):
        check(page, "the sandbox's page for a remembered user", axe_script, viewport)


def test_walk_through_pauses_are_accessible_and_fit_a_phone(page, axe_script):
    page.goto("/login?walkthrough=1")
    for viewport in (DESKTOP, PHONE):
        check(page, "step 1 of the walk-through", axe_script, viewport)
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Continue to Sentinel").click()
    pages.sandbox_sign_in(page, "agent", walk=False)
    expect(page.get_by_role("button", name="Skip the pauses")).to_be_visible()
    for viewport in (DESKTOP, PHONE):
        check(page, "step 2 of the walk-through", axe_script, viewport)
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Continue: exchange the code").click()
    page.goto(f"/functions/{pages.ECHO}")
    page.get_by_role("button", name="Invoke", exact=True).click()
    expect(page.get_by_role("button", name="Continue: invoke")).to_be_visible()
    for viewport in (DESKTOP, PHONE):
        check(page, "step 3 of the walk-through", axe_script, viewport)


def in_view(page, locator):
    box = locator.bounding_box()
    bottom = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= bottom


@pytest.mark.signed_in
def test_invoke_stays_in_view_and_the_result_sits_beside_the_request(page):
    page.set_viewport_size(DESKTOP)
    page.goto(f"/functions/{pages.GREETING}")
    invoke = page.get_by_role("button", name="Invoke", exact=True)
    assert in_view(page, invoke)
    page.get_by_label("Payload (JSON)").fill('{"name": "Ana"}')
    result = pages.press_invoke(page)
    assert "/history/" in page.url  # the result has its own address
    assert in_view(page, page.get_by_role("button", name="Invoke", exact=True))
    request = page.locator("section.request").bounding_box()
    shown = result.bounding_box()
    assert shown["x"] >= request["x"] + request["width"]  # side by side
    assert shown["y"] < request["y"] + request["height"]


@pytest.mark.signed_in
def test_ctrl_enter_invokes_and_format_pretty_prints(page):
    page.set_viewport_size(DESKTOP)
    page.goto(f"/functions/{pages.ECHO}")
    area = page.get_by_label("Payload (JSON)")
    area.fill('{"b":[1,2],"a":{"c":true}}')
    page.get_by_role("button", name="Format").click()
    assert area.input_value() == json.dumps({"b": [1, 2], "a": {"c": True}}, indent=2)
    area.press("Control+Enter")
    expect(page.locator("#result .badge")).to_have_text("Success")
    assert "/history/" in page.url
    response = page.locator("#response")
    assert "\n" in response.inner_text()  # pretty first
    page.get_by_role("button", name="Raw").click()
    expect(page.get_by_role("button", name="Raw")).to_have_attribute("aria-pressed", "true")
    assert "\n" not in response.text_content()
    assert json.loads(response.inner_text()) == {"b": [1, 2], "a": {"c": True}}


@pytest.mark.signed_in
def test_every_action_is_reachable_by_keyboard_with_a_visible_focus(page):
    page.set_viewport_size(DESKTOP)
    page.goto(f"/functions/{pages.GREETING}")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                const name = e.tagName === "TEXTAREA" ? e.id : e.textContent.trim() || e.name;
                return [e === document.body ? null : name, s.outlineStyle, s.outlineWidth]; }"""
        )
        name, style, width = focused
        if name is None:
            continue
        assert style != "none" and width != "0px", f"no visible focus on {name!r}"
        reached.add(name)
    for action in ("Functions", "History", "Format", "Invoke", "Save payload", "payload"):
        assert action in reached, f"{action!r} not reached by Tab: {sorted(reached)}"


@pytest.mark.signed_in
def test_the_header_menu_is_usable_on_a_phone(page):
    page.set_viewport_size(PHONE)
    page.goto("/")
    header = page.locator("header")
    for name in ("Functions", "Events", "History", "Saved payloads", "Flow"):
        link = header.get_by_role("link", name=name, exact=True)
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    header.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()


@pytest.mark.signed_in
def test_suite_pages_are_accessible_and_fit_a_phone(page, servers, axe_script):
    page.goto("/suites")
    check(page, "/suites", axe_script, DESKTOP)
    page.get_by_label("New suite name").fill("Smoke")
    page.get_by_role("button", name="Create suite").click()
    suite = {
        "name": "Smoke",
        "cases": [
            {"name": "greets Ana", "function": pages.GREETING, "payload": {"name": "Ana"}},
            {"name": "expects too much", "function": pages.ECHO, "expect": {"status": 201}},
        ],
    }
    page.locator("textarea#suite").fill(json.dumps(suite))
    page.get_by_role("button", name="Save suite").click()
    expect(page.get_by_text("Saved “Smoke” with 2 cases.")).to_be_visible()
    suite_path = page.url.removeprefix(servers.url)
    page.get_by_role("button", name="Run 2 cases").click()
    # The run page reloads itself until both cases are done (no JavaScript needed).
    expect(page.get_by_text("1 passed, 1 failed")).to_be_visible(timeout=20_000)
    for path in ("/suites", suite_path, page.url.removeprefix(servers.url)):
        page.goto(path)
        for viewport in (DESKTOP, PHONE):
            check(page, path, axe_script, viewport)
