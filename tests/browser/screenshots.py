"""Screenshots of the main pages, for the README: `make screenshots` writes docs/screenshots/.

Starts the sandbox and the app under gunicorn exactly as the browser tests do (as `make run`
serves them), signs in as `agent` in Debian's chromium, and saves each page full length,
1280 px wide, as PNG; a few again at 390 px (phone-*.png).
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser import pages
from tests.browser.servers import ROOT
from tests.browser.servers import Servers
from tests.browser.servers import port_free

OUT = ROOT / "docs" / "screenshots"
# The ports `make run` uses (sandbox, app), so the pictures show its addresses; free ones when
# they are taken.
MAKE_RUN_PORTS = (8001, 8000)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def shooter(page, out, written):
    """Return shot(name, width=1280): save the page full length at that width into `out`."""

    def shot(name, width=1280):
        page.set_viewport_size({"width": width, "height": 800 if width > 600 else 844})
        path = out / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        written.append(path)

    return shot


def take(page, out):
    """Walk the main path, saving a screenshot of each page; return the files written."""
    written = []

    def shot(name, full_page=True):
        path = out / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
        written.append(path)

    page.goto("/")
    shot("home-signed-out")
    page.set_viewport_size(PHONE)
    shot("phone-home-signed-out")
    page.set_viewport_size(DESKTOP)
    pages.go_to_sentinel(page)
    shot("sign-in-sandbox")
    pages.sandbox_sign_in(page, "agent")
    page.goto("/")
    shot("home-signed-in")
    page.goto("/functions")
    shot("functions")
    page.goto(f"/functions/{pages.GREETING}")
    shot("invoke-before", full_page=False)
    pages.invoke(page, f"/functions/{pages.GREETING}", {"name": "Ana"})
    shot("invoke-success")
    success = page.url
    pages.invoke(page, f"/functions/{pages.FAILING}")
    shot("invoke-function-error")
    pages.invoke(page, f"/events/{pages.EVENT}")
    shot("event-result")
    page.goto("/history")
    shot("history")
    page.set_viewport_size(PHONE)
    for name, path in (("home", "/"), ("functions", "/functions"), ("invoke", success)):
        page.goto(path)
        shot(f"phone-{name}")
    return written


def main(out=OUT, walk=take):
    """Serve the app, run `walk(page, out)` in chromium, and list the files it wrote."""
    executable = pages.chromium_path()
    if executable is None:
        sys.exit(pages.MISSING)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ports = MAKE_RUN_PORTS if all(map(port_free, MAKE_RUN_PORTS)) else None
    with (
        tempfile.TemporaryDirectory() as tmp,
        Servers(tmp, ports=ports) as servers,
        sync_playwright() as playwright,
    ):
        browser = pages.launch(playwright, executable)
        try:
            context = browser.new_context(
                base_url=servers.url, viewport=DESKTOP, device_scale_factor=1
            )
            written = walk(context.new_page(), out)
        finally:
            browser.close()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main(*sys.argv[1:])
