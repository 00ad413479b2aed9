"""Error pages show who is signed in, a reference only when there is one, and the 413 page
offers going back to what was typed."""

import pytest

from sandbox import functions as demo
from tests.support import calls
from tests.support import visible_text

WHO = '<span class="who">agent</span>'


@pytest.fixture
def agent(app, browser):
    browser.sign_in(app.url)
    return browser


def oversized(browser, app):
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    return browser.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"csrf_token": browser.csrf(page), "payload": "x" * 1_100_000},
    )


def assert_reference_only_if_any(response):
    text = visible_text(response)
    assert "reference -" not in text and "reference · " not in text
    if "reference" in text:
        assert f"reference {response.headers['X-Request-ID']}" in text


def test_413_shows_the_signed_in_header_and_offers_going_back(app, sandbox, agent):
    response = oversized(agent, app)
    assert response.status_code == 413
    assert WHO in response.text  # the header still says who is signed in
    text = visible_text(response)
    assert "larger than this app accepts" in text and "256 KB" in text
    assert "the page you came from still holds what you typed" in text
    assert "data-back" in response.text and "Go back to what you typed" in text
    assert_reference_only_if_any(response)
    assert calls(sandbox, "invoke") == 0


def test_413_signed_out_has_no_signed_in_header(app, browser):
    # Refused for its size before anything else is looked at, CSRF token included.
    response = browser.post(f"{app.url}/functions/{demo.ECHO}", data={"payload": "x" * 1_100_000})
    assert response.status_code == 413
    assert 'class="who"' not in response.text
    assert_reference_only_if_any(response)


def test_sign_in_again_page_has_the_signed_out_header_and_a_real_reference(app, sandbox, agent):
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    agent.form_post(agent.get(f"{app.url}/"), {}, action="/logout")
    response = agent.form_post(page, {"payload": '{"kept": 1}'}, action=f"/functions/{demo.ECHO}")
    assert response.status_code == 400
    text = visible_text(response)
    assert "Sign in again" in text and "what you typed will be back" in text
    assert 'class="who"' not in response.text  # signed out now: no name in the header
    assert_reference_only_if_any(response)
    assert calls(sandbox, "invoke") == 0


def test_not_found_while_signed_in_keeps_the_header(app, agent):
    response = agent.get(f"{app.url}/no-such-page")
    assert response.status_code == 404 and WHO in response.text
    assert f"reference {response.headers['X-Request-ID']}" in visible_text(response)
