"""The main path in a real browser: sign in at the sandbox, list, invoke, events, history."""

import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import pages


def test_sign_in_as_agent_through_the_sandbox(page, servers):
    pages.go_to_sentinel(page)
    # Sentinel's page is the sandbox's, on its own origin.
    assert page.url.startswith(f"{servers.sandbox_url}/sentinel/api/account/12345678/authorize")
    pages.sandbox_sign_in(page, "agent")
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()
    assert page.url == f"{servers.url}/"
    who = page.locator("dl").first
    expect(who).to_contain_text("4000001")
    expect(who).to_contain_text("agent")
    expect(page.locator("header .who")).to_have_text("agent")
    expect(page.get_by_text("Sandbox (a local LivePerson)")).to_be_visible()


@pytest.mark.signed_in
def test_functions_list(page):
    page.locator("header").get_by_role("link", name="Functions", exact=True).click()
    expect(page.get_by_role("heading", name="Functions")).to_be_visible()
    expect(page.get_by_text("1–9 of 9 matching (9 functions in the account).")).to_be_visible()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(9)
    greeting = page.get_by_role("link", name="Greeting", exact=True)
    expect(greeting).to_have_attribute("href", f"/functions/{pages.GREETING}")
    draft = rows.filter(has_text="Conversation tagger (draft)")
    expect(draft).to_contain_text("not deployed (Draft), so it cannot be invoked")
    # A draft opens read-only (issue 21 item 7).
    expect(draft.get_by_role("link")).to_have_attribute("href", f"/functions/{pages.DRAFT}")
    # The filters stay in the URL.
    page.get_by_label("Name", exact=True).fill("greet")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    assert "name=greet" in page.url


@pytest.mark.signed_in
def test_invoke_greeting_and_read_the_result(page):
    page.goto("/functions")
    page.get_by_role("link", name="Greeting", exact=True).click()
    expect(page.get_by_role("heading", name="Greeting")).to_be_visible()
    page.get_by_label("Payload (JSON)").fill('{"name": "Ana"}')
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("Success")
    assert json.loads(result.locator("#response").inner_text()) == {"greeting": "Hello, Ana!"}
    expect(result.locator("dl")).to_contain_text("200")
    expect(result.locator("table.logs")).to_contain_text("Ana")
    # What was sent stays in the form.
    assert json.loads(page.get_by_label("Payload (JSON)").input_value()) == {"name": "Ana"}


@pytest.mark.signed_in
def test_a_failing_function_is_explained(page):
    result = pages.invoke(page, f"/functions/{pages.FAILING}", {"orderId": "42"})
    expect(result.locator(".badge")).to_have_text("The function failed")
    expect(result.locator("dl")).to_contain_text("901")
    expect(result).to_contain_text("com.liveperson.faas.handler.custom-failure")
    expect(result.locator(".explain")).to_contain_text("What to do:")


@pytest.mark.signed_in
def test_invoke_by_event_runs_two_functions(page):
    page.goto("/events")
    page.get_by_role("link", name="Conversational command").click()
    assert page.url.endswith(f"/events/{pages.EVENT}")
    runners = page.locator("section.card").first
    expect(runners).to_contain_text("Conversation summariser")
    expect(runners).to_contain_text("Billing commands")
    result = pages.press_invoke(page)
    expect(result.locator(".badge")).to_have_text("Success")
    expect(result.get_by_role("heading", name="2 functions ran")).to_be_visible()
    ran = result.locator("table.list tr").filter(has=page.locator("pre"))
    expect(ran).to_have_count(2)
    expect(ran.nth(0)).to_contain_text("Conversation summariser")
    expect(ran.nth(1)).to_contain_text("Billing commands")


@pytest.mark.signed_in
def test_history_shows_the_last_invocation(page):
    marker = uuid.uuid4().hex
    pages.invoke(page, f"/functions/{pages.ECHO}", {"marker": marker})
    page.locator("header").get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    newest = page.locator("table.list tr").nth(1)
    expect(newest).to_contain_text("Echo")
    expect(newest.locator(".badge")).to_have_text("success")
    newest.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text(marker)


def test_sign_out(page, servers):
    pages.sign_in(page)
    pages.sign_out(page)
    assert page.url == f"{servers.url}/"
    expect(page.get_by_role("link", name="Sign in with LivePerson")).to_be_visible()
    expect(page.locator("header .who")).to_have_count(0)


def test_cancel_at_the_sandbox(page, servers):
    pages.go_to_sentinel(page)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Sign-in cancelled")).to_be_visible()
    assert page.url.startswith(f"{servers.url}/callback?")
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    expect(page.locator("header .who")).to_have_count(0)


def test_viewer_is_told_about_the_missing_permission(page, servers, console):
    console.allow(f"{servers.url}/functions", "status of 403")
    pages.sign_in(page, "viewer")
    response = page.goto("/functions")
    assert response.status == 403
    main = page.locator("main")
    problem = main.get_by_role("heading", level=2)
    expect(problem).to_have_text("Could not list the account's functions")
    expect(main).to_contain_text("FaaS-Invocation permission")
    expect(main).to_contain_text("Ask your LivePerson administrator")
    expect(main).not_to_contain_text("Traceback")


def test_signed_out_home_offers_both_ways_to_sign_in(page):
    page.goto("/")
    main = page.locator("main")
    # Sandbox mode turns LP_DEMO_MODE on, so step by step is the main button.
    steps = main.get_by_role("link", name="Sign in step by step")
    plain = main.get_by_role("link", name="Sign in with LivePerson")
    expect(steps).to_have_class("button primary")
    expect(plain).to_have_class("button")
    steps.click()
    expect(page.get_by_role("heading", name="Step 1 of 3 — going to Sentinel")).to_be_visible()
    page.get_by_role("link", name="Continue to Sentinel").click()
    pages.sandbox_sign_in(page, "agent", walk=False)
    expect(page.get_by_role("heading", name="Step 2 of 3 — exchanging the code")).to_be_visible()
    page.get_by_role("button", name="Skip the pauses").click()
    expect(page.locator("header .who")).to_have_text("agent")
    # No pause before the first invocation either: the walk-through was left.
    page.goto(f"/functions/{pages.ECHO}")
    page.get_by_role("button", name="Invoke", exact=True).click()
    expect(page.locator("#result .badge")).to_have_text("Success")


def test_switching_users_at_the_sandbox(page):
    pages.sign_in(page, "agent")
    pages.sign_out(page)
    page.get_by_role("link", name="Sign in with LivePerson").click()
    expect(page.get_by_text("You are signed in to LivePerson as agent")).to_be_visible()
    page.get_by_role("button", name="Use another account").click()
    pages.sandbox_sign_in(page, "admin")
    expect(page.locator("header .who")).to_have_text("admin")
