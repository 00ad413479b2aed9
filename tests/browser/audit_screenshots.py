"""Compare and audit screenshots for the README: `python -m tests.browser.audit_screenshots`.

Signs in as `agent` in Debian's chromium against the app under gunicorn and the sandbox,
invokes the echo function twice and compares the runs; then signs in as `admin`, invokes, and
opens the audit trail; each at 1280 px and 390 px wide, into docs/screenshots/.
"""

import sys

from playwright.sync_api import expect

from tests.browser import pages
from tests.browser import screenshots

BEFORE = {"orderId": "A-1001", "items": [{"sku": "tea", "qty": 1}], "note": "leave at door"}
AFTER = {"orderId": "A-1001", "items": [{"sku": "tea", "qty": 2}], "coupon": "WINTER"}


def take(page, out):
    """Compare two runs as agent, then read the audit trail as admin; return the files."""
    written = []
    shot = screenshots.shooter(page, out, written)

    pages.sign_in(page, "agent")
    pages.invoke(page, f"/functions/{pages.ECHO}", BEFORE)
    pages.invoke(page, f"/functions/{pages.ECHO}", AFTER)
    page.get_by_role("link", name="Compare with…").click()
    expect(page.get_by_role("heading", name="Compare two runs")).to_be_visible()
    shot("compare")
    shot("compare-narrow", width=390)
    pages.sign_out(page)
    pages.sign_in(page, "admin")
    pages.invoke(page, f"/functions/{pages.GREETING}", {"name": "Ana"})
    page.goto("/audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    shot("audit")
    shot("audit-narrow", width=390)
    return written


def main(out=screenshots.OUT):
    screenshots.main(out, take)


if __name__ == "__main__":
    main(*sys.argv[1:])
