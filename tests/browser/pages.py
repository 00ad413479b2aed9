"""Driving Debian's chromium through the app's pages: launch, sign in, invoke.

Shared by the browser tests and `make screenshots` (tests/browser/screenshots.py).
"""

import json
import shutil

from playwright.sync_api import expect

from sandbox import functions as demo

MISSING = "chromium not found: `make test` installs it (Debian package chromium)"
# Without the background-networking switches, Chromium's own calls home (component updates,
# sync, QUIC probes) hit this machine's closed network and its connections are refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1200, "height": 800}

GREETING, FAILING, ECHO = demo.GREETING, demo.FAILING, demo.ECHO
DRAFT, SLOW = demo.DRAFT, demo.SLOW
EVENT = demo.COMMAND_EVENT


def chromium_path():
    """Return Debian's chromium, or None when it is not installed."""
    return shutil.which("chromium")


def launch(playwright, executable):
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def go_to_sentinel(page):
    """From the app's home page, follow "Sign in with LivePerson" (no pauses) to the sandbox."""
    page.goto("/")
    page.get_by_role("link", name="Sign in with LivePerson").click()
    walk_through(page, page.get_by_role("link", name="Continue to Sentinel"), sentinel_page(page))


def sentinel_page(page):
    """The sandbox's sign-in page, found by its heading."""
    return page.get_by_role("heading", name="Sign in", exact=True)


def walk_through(page, pause, then):
    """Step over a pause of the walk-through mode, if the app shows one.

    With `LP_DEMO_MODE` (on by default in sandbox mode, so under `make run`) the app stops
    before going to Sentinel, before exchanging the code and before the first invocation, and
    explains the step; its Continue button (or link) goes on. Without it, `then` comes at once.
    """
    # wait_for() watches the page; expect() would poll with growing pauses at each step.
    pause.or_(then).first.wait_for()
    if pause.is_visible():
        pause.click()
    then.first.wait_for()


def sign_in(page, user="agent", password=None):
    """Sign in from the app's home page through the sandbox's sign-in page."""
    go_to_sentinel(page)
    sandbox_sign_in(page, user, password)
    expect(page.locator("header .who")).to_have_text(user)


def sandbox_sign_in(page, user, password=None, walk=True):
    """Fill in the sandbox's (Sentinel's) sign-in page, submit it, and come back to the app
    (or, with `walk=False`, stop wherever the sandbox sends the browser)."""
    expect(sentinel_page(page)).to_be_visible()
    another = page.get_by_role("button", name="Use another account")
    if another.is_visible():
        another.click()  # the sandbox remembers someone: ask for the password form
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password or user)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if not walk:
        return
    exchange = page.get_by_role("button", name="Continue: exchange the code")
    walk_through(page, exchange, page.locator("header .who"))


def press_invoke(page):
    """Press Invoke on the page's form and return the result panel, once a new one is shown
    (with script it replaces the panel beside the form; without, the result page opens)."""
    shown = page.locator("#result").get_attribute("data-entry")  # None: no result yet
    page.get_by_role("button", name="Invoke", exact=True).click()
    new = page.locator(f"#result[data-entry]:not([data-entry='{shown}'])")
    walk_through(page, page.get_by_role("button", name="Continue: invoke"), new)
    return page.locator("#result")


def invoke(page, path, payload=None):
    """Open an invoke page (a function's or an event's), send `payload`, wait for the result."""
    page.goto(path)
    if payload is not None:
        page.get_by_label("Payload (JSON)").fill(json.dumps(payload))
    return press_invoke(page)


def sign_out(page):
    """Press the top bar's Sign out (a POST form with its CSRF token)."""
    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").first).to_contain_text("You are signed out")
