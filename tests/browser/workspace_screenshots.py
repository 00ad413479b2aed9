"""The team's workspace for the README: `python -m tests.browser.workspace_screenshots`.

Signs in as `agent` in Debian's chromium against the app under gunicorn and the sandbox, makes
a shared environment with a secret variable, previews and invokes a payload that uses it, and
saves the environment, the invoke page with its preview, the history entry and the payloads
shared with the account, at 1280 px and 390 px wide, into docs/screenshots/.
"""

import sys

from playwright.sync_api import expect

from tests.browser import pages
from tests.browser import screenshots

PAYLOAD = """{
  "conversationId": "{{conversationId}}",
  "apiKey": "{{apiKey}}",
  "attempt": {{attempt}},
  "requestedAt": "{{$isoTimestamp}}"
}"""
VARIABLES = [("conversationId", "conv-5f2c", False), ("attempt", "2", False)]
SECRET = ("apiKey", "sk-live-3c9d", True)


def make_environment(page, name="Staging", shared=True):
    """Create an environment with a secret variable from /environments; stay on its page."""
    page.goto("/environments")
    page.get_by_label("New environment name").fill(name)
    if shared:
        page.get_by_label("Share with the account").check()
    page.get_by_role("button", name="Create environment").click()
    names, values = page.get_by_label("Variable name"), page.locator('input[name="var_value"]')
    for row, (variable, value, secret) in enumerate([*VARIABLES, SECRET]):
        names.nth(row).fill(variable)
        values.nth(row).fill(value)
        if secret:
            page.get_by_label("secret").nth(row).check()
    page.get_by_role("button", name="Save environment").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Saved the environment “{name}”")


def preview(page, environment="Staging (shared)"):
    """Type the payload on the echo function's page, choose the environment, press Preview."""
    page.goto(f"/functions/{pages.ECHO}")
    page.get_by_label("Payload (JSON)").fill(PAYLOAD)
    page.get_by_label("Environment", exact=True).select_option(label=environment)
    page.get_by_role("button", name="Preview what is sent").click()
    expect(page.get_by_role("heading", name="What will be sent")).to_be_visible()


def take(page, out):
    """Walk the workspace's pages, saving each; return the files written."""
    written = []
    shot = screenshots.shooter(page, out, written)

    pages.sign_in(page, "agent")
    make_environment(page)
    shot("environment")
    preview(page)
    shot("invoke-preview")
    pages.press_invoke(page)
    shot("invoke-with-variables")
    page.get_by_label("Save this payload as").fill("Lookup with variables")
    page.get_by_label("Share with the account").check()
    page.get_by_role("button", name="Save payload").click()
    expect(page.get_by_role("status").first).to_contain_text("shared with the account")
    page.goto("/payloads")
    shot("team-payloads")
    page.goto("/environments")
    shot("environments-narrow", width=390)
    return written


def main(out=screenshots.OUT):
    screenshots.main(out, take)


if __name__ == "__main__":
    main(*sys.argv[1:])
