"""Debian's chromium, driven by Playwright, against the app under gunicorn and the sandbox.

The servers and the browser live for the whole session; every test gets fresh browser
contexts (cookies, storage) and a console watcher that fails the test on any console error
or Content Security Policy report, on the app's pages and the sandbox's alike.
"""

import time

import pytest
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright

from tests.browser import pages
from tests.browser.servers import ServerError
from tests.browser.servers import Servers

PROBLEMS = ("Content Security Policy", "Refused to")


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    try:
        started = Servers(tmp_path_factory.mktemp("servers"))
    except ServerError as exc:
        pytest.fail(str(exc))
    yield started
    started.stop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium under Playwright; missing chromium is a failure, never a skip."""
    executable = pages.chromium_path()
    if executable is None:
        pytest.fail(pages.MISSING)
    playwright = sync_playwright().start()
    try:
        browser = pages.launch(playwright, executable)
    except BaseException:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


class Console:
    """Every console message and page error of a test's browser contexts."""

    def __init__(self):
        self.contexts = []
        self.pending = set()  # requests sent and not yet answered
        self.messages = []  # (type, text, url)
        self.allowed = []  # (url or None for any, text): messages a test expects

    def watch(self, context):
        self.contexts.append(context)
        context.on("console", self.record)
        context.on("weberror", lambda error: self.messages.append(("pageerror", error.error, "")))
        context.on("request", lambda request: self.pending.add(request))
        context.on("requestfinished", lambda request: self.pending.discard(request))
        context.on("requestfailed", lambda request: self.pending.discard(request))

    def record(self, message):
        self.messages.append((message.type, message.text, message.location.get("url", "")))

    def allow(self, url, text):
        """Expect a console message from `url` (None: any) containing `text` (a 403 page…)."""
        self.allowed.append((url, text))

    def settle(self, timeout=5.0):
        """Wait for the pages' loads and requests (a resource added late included), then
        for the messages the browser has sent about them."""
        open_pages = [page for context in self.contexts for page in context.pages]
        for page in open_pages:
            page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        while self.pending and open_pages and time.monotonic() < deadline:
            open_pages[0].wait_for_timeout(20)  # events are delivered while Playwright waits
        for context in self.contexts:
            context.cookies()  # a round trip: events already sent are dispatched before it

    def problems(self):
        self.settle()
        return [
            (kind, text, url)
            for kind, text, url in self.messages
            if (kind in ("error", "pageerror") or any(p in text for p in PROBLEMS))
            and not any(u in (None, url) and t in text for u, t in self.allowed)
        ]


@pytest.fixture
def console():
    return Console()


@pytest.fixture
def new_context(chromium, servers, console):
    """Make a fresh browser context on the app's origin, watched by `console`."""
    made = []

    def make(**options):
        context = chromium.new_context(base_url=servers.url, viewport=pages.VIEWPORT, **options)
        made.append(context)
        console.watch(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture(scope="session")
def agent_session(chromium, servers):
    """Sign in as `agent` once; tests marked `signed_in` start from its cookies."""
    context = chromium.new_context(base_url=servers.url, viewport=pages.VIEWPORT)
    try:
        page = context.new_page()
        pages.sign_in(page, "agent")
        # The walk-through mode pauses before a session's first invocation: take it here.
        pages.invoke(page, f"/functions/{pages.ECHO}", {"warm": True})
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def page(request, new_context):
    """A page in a fresh context; with the `signed_in` mark, already signed in as `agent`."""
    if request.node.get_closest_marker("signed_in") is None:
        return new_context().new_page()
    page = new_context(storage_state=request.getfixturevalue("agent_session")).new_page()
    page.goto("/")
    expect(page.locator("header .who")).to_have_text("agent")
    return page


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "signed_in: the `page` fixture starts signed in as agent (a shared session)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test that used the browser, fail it on any console error or CSP report."""
    result = yield
    console = item.funcargs.get("console")
    if console is not None:
        problems = console.problems()
        if problems:
            listed = "\n".join(f"  [{kind}] {text} ({url})" for kind, text, url in problems)
            pytest.fail(f"the browser console reported problems:\n{listed}", pytrace=False)
    return result
