"""Screenshots of a suite run for the README: `python -m tests.browser.suite_screenshots`.

Starts the sandbox and the app under gunicorn as the browser tests do, signs in as `agent` in
Debian's chromium, creates a suite, runs it, and saves the run in progress and finished, at
1280 x 800 and 390 px wide, into docs/screenshots/.
"""

import json
import sys

from playwright.sync_api import expect

from sandbox import functions as demo
from tests.browser import pages
from tests.browser import screenshots

CASES = [
    {
        "name": "greets Ana",
        "function": demo.GREETING,
        "payload": {"name": "Ana"},
        "expect": {"status": 200, "json": [{"path": "$.greeting", "equals": "Hello, Ana!"}]},
    },
    {
        "name": "CRM sync finishes in time",
        "function": demo.SLOW,
        "payload": {},
        "expect": {"outcome": "success", "maxDurationMs": 2000},
    },
    {
        "name": "order lookup fails as designed",
        "function": demo.FAILING,
        "payload": {"orderId": "7"},
        "expect": {"outcome": "function-error", "status": 901},
    },
    {
        "name": "echo returns the payload",
        "function": demo.ECHO,
        "payload": {"items": [1, 2], "note": "hi"},
        "expect": {"json": [{"path": "$", "equals": {"items": [1, 3], "note": "hi"}}]},
    },
    {
        "name": "billing answers skill 1001",
        "event": demo.COMMAND_EVENT,
        "payload": {"command": "/balance"},
        "skillId": "1001",
        "expect": {"json": [{"path": "$", "contains": {"uuid": demo.BILLING_COMMAND}}]},
    },
]


def take(page, out):
    """Create and run a suite, saving the run page as it goes; return the files written."""
    written = []
    shot = screenshots.shooter(page, out, written)

    pages.sign_in(page, "agent")
    page.goto("/suites")
    page.get_by_label("New suite name").fill("Checkout smoke test")
    page.get_by_role("button", name="Create suite").click()
    page.get_by_label("Each case").fill(
        json.dumps({"name": "Checkout smoke test", "cases": CASES}, indent=2)
    )
    page.get_by_role("button", name="Save suite").click()
    shot("suite")
    page.get_by_role("button", name="Run 5 cases").click()
    expect(page.get_by_text("Running:")).to_be_visible()
    shot("suite-run-progress")
    expect(page.get_by_text("passed,")).to_be_visible(timeout=30_000)
    shot("suite-run")
    shot("suite-run-narrow", width=390)
    return written


def main(out=screenshots.OUT):
    screenshots.main(out, take)


if __name__ == "__main__":
    main(*sys.argv[1:])
