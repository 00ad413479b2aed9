"""What the browser enforces: the cross-site sign-in keeps its cookie, CSP, no framing."""

import http.server
import re
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.support import free_port

APP_TEXT = "Invoke LivePerson Functions as yourself"
SHEETS_LOADED = """() => document.styleSheets.length > 0
    && [...document.styleSheets].every((sheet) => sheet.cssRules.length > 0)"""


def test_session_cookie_survives_the_cross_site_redirect(page, servers):
    sent = {}
    page.on(
        "request",
        lambda r: sent.setdefault(r.url.split("?")[0], r.all_headers().get("cookie", "")),
    )
    pages.go_to_sentinel(page)
    # /login kept the sign-in state (state, PKCE verifier) in the session before redirecting.
    before = {c["name"]: c for c in page.context.cookies(servers.url)}
    assert set(before) == {"invoker_session"}
    cookie = before["invoker_session"]
    assert cookie["sameSite"] == "Lax" and cookie["httpOnly"] and not cookie["secure"]
    pages.sandbox_sign_in(page, "agent")
    # The sandbox (localhost) is another site than the app (127.0.0.1): with SameSite=Lax the
    # cookie still rides on the top-level GET back to /callback, so the state is found.
    assert f"invoker_session={cookie['value']}" in sent[f"{servers.url}/callback"]
    # None of the app's cookies went to the sandbox.
    assert (
        "invoker_session"
        not in sent[f"{servers.sandbox_url}/sentinel/api/account/12345678/authorize"]
    )
    after = {c["name"]: c for c in page.context.cookies(servers.url)}
    # The session id changes at sign-in, with the same attributes.
    assert after["invoker_session"]["value"] != cookie["value"]
    assert after["invoker_session"]["sameSite"] == "Lax"


@pytest.mark.signed_in
def test_no_csp_report_on_any_page(page, console):
    """Visit every page of the console; the console watcher fails on any CSP report."""
    for path in (
        "/",
        "/functions",
        f"/functions/{pages.GREETING}",
        "/events",
        f"/events/{pages.EVENT}",
        "/history",
        "/payloads",
        "/logout/everywhere",
        "/flow",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        # The stylesheet loaded and applies (a blocked one would have no rules).
        assert page.evaluate(SHEETS_LOADED), path
    # The script is allowed too: it checks JSON as you type.
    page.goto(f"/functions/{pages.GREETING}")
    page.get_by_label("Payload (JSON)").fill('{"name": ')
    expect(page.locator("#payload-error")).to_contain_text("Not valid JSON yet")
    result = pages.invoke(page, f"/functions/{pages.GREETING}", {"name": "Ana"})
    expect(result.locator(".badge")).to_have_text("Success")
    assert "/history/" in page.url  # the result is the history entry's page
    page.reload()
    expect(page.locator("main")).to_contain_text("Hello, Ana!")
    assert not console.problems()


def test_the_console_watcher_sees_a_csp_violation(page, console):
    """The watcher works: an inline script on an app page is refused and reported."""
    page.goto("/")
    # evaluate() itself is exempt from the page's CSP; the inline script it adds is not.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.title = 'injected'";
            document.head.append(script);
        }"""
    )
    assert page.title() != "injected"
    reported = console.problems()
    assert any("Content Security Policy" in text for _, text, _ in reported), reported
    console.messages.clear()


@pytest.fixture
def framing_site(servers):
    """A page on another origin (localhost, a third port) that puts the app in an iframe."""
    body = (
        '<!doctype html><title>framer</title><link rel="icon" href="data:,">'
        f'<iframe src="{servers.url}/"></iframe>'
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            found = self.path == "/"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_app_refuses_to_be_framed(page, servers, console, framing_site):
    console.allow(None, "frame-ancestors")
    page.goto(framing_site)
    deadline = time.monotonic() + 5
    while not refusals(console) and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    # Chromium refused to render the app in the frame, and said why.
    (refusal,) = refusals(console)
    assert f"'{servers.url}/'" in refusal
    (child,) = page.main_frame.child_frames
    # Chromium's page for a blocked frame (committed a moment after the console message).
    child.wait_for_url(re.compile(r"^chrome-error://"), timeout=5000)
    assert APP_TEXT not in child.content()
    assert APP_TEXT not in page.content()


def refusals(console):
    return [text for _, text, _ in console.messages if "frame-ancestors 'none'" in text]
