"""Signing in step by step is chosen per sign-in; LP_DEMO_MODE only picks the main button;
"Skip the pauses" leaves a running walk-through."""

import html
import re

import pytest

from sandbox import functions as demo
from tests.support import calls
from tests.support import visible_text


def invoke(browser, app, payload="{}"):
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    return browser.form_post(page, {"payload": payload}, action=f"/functions/{demo.ECHO}")


def to_step_two(browser, app):
    """Sign in step by step as far as the pause before the code exchange."""
    first = browser.get(f"{app.url}/login?walkthrough=1")
    assert "Step 1 of 3" in first.text
    go = re.search(r'href="([^"]+)">Continue to Sentinel', first.text).group(1)
    signin = browser.get(html.unescape(go))
    second = browser.form_post(signin, {"username": "agent", "password": "agent"})
    assert "Step 2 of 3" in second.text
    return second


@pytest.mark.parametrize(
    ("app_overrides", "main", "other"),
    [
        ({"LP_DEMO_MODE": "1"}, "Sign in step by step", "Sign in with LivePerson"),
        ({"LP_DEMO_MODE": "0"}, "Sign in with LivePerson", "Sign in step by step"),
    ],
)
def test_signed_out_home_offers_both_and_demo_mode_picks_the_main_one(app, browser, main, other):
    home = browser.get(f"{app.url}/")
    assert re.search(rf'class="button primary" href="[^"]+">{main}<', home.text)
    assert re.search(rf'class="button" href="[^"]+">{other}<', home.text)
    assert 'href="/login?walkthrough=1"' in home.text and 'href="/login"' in home.text


class TestDemoMode:
    @pytest.fixture
    def app_overrides(self):
        return {"LP_DEMO_MODE": "1"}

    def test_a_plain_sign_in_never_pauses(self, app, sandbox, browser):
        signed = browser.sign_in(app.url)
        assert "Signed in" in signed.text and "Step" not in visible_text(signed)
        assert calls(sandbox, "token") == 1
        result = invoke(browser, app, '{"plain": 1}')
        assert "Step 3 of 3" not in result.text and "Success" in result.text
        assert calls(sandbox, "invoke") == 1

    def test_skip_at_the_exchange_ends_the_pauses_of_this_sign_in(self, app, sandbox, browser):
        second = to_step_two(browser, app)
        assert "Skip the pauses" in visible_text(second)
        signed = browser.form_post(second, {}, action="/callback/exchange", submit="skip_pauses")
        assert "Signed in" in signed.text and calls(sandbox, "token") == 1
        result = invoke(browser, app, '{"skipped": 1}')
        assert "Step 3 of 3" not in result.text and "Success" in result.text
        assert calls(sandbox, "invoke") == 1

    def test_skip_before_sentinel_goes_straight_on(self, app, sandbox, browser):
        first = browser.get(f"{app.url}/login?walkthrough=1&next=/events")
        skip = re.search(r'href="([^"]+)">Skip the pauses', first.text).group(1)
        signin = browser.get(app.url + html.unescape(skip))
        assert calls(sandbox, "authorize") == 1  # the skip went to Sentinel without a pause
        signed = browser.form_post(signin, {"username": "agent", "password": "agent"})
        assert signed.url == f"{app.url}/events" and "Step 2 of 3" not in signed.text
        assert "Step 3 of 3" not in invoke(browser, app).text
        assert calls(sandbox, "invoke") == 1

    def test_skip_at_the_first_invocation_invokes_and_pauses_no_more(self, app, sandbox, browser):
        second = to_step_two(browser, app)
        browser.form_post(second, {}, action="/callback/exchange")
        third = invoke(browser, app, '{"third": 1}')
        assert "Step 3 of 3" in third.text and calls(sandbox, "invoke") == 0
        result = browser.form_post(
            third, {}, action=f"/functions/{demo.ECHO}", submit="skip_pauses"
        )
        assert "Success" in result.text and calls(sandbox, "invoke") == 1
        assert "Step 3 of 3" not in invoke(browser, app).text
        assert calls(sandbox, "invoke") == 2


def test_step_by_step_works_without_demo_mode(app, sandbox, browser):
    second = to_step_two(browser, app)
    signed = browser.form_post(second, {}, action="/callback/exchange")
    assert "Signed in" in signed.text
    assert "Step 3 of 3" in invoke(browser, app).text and calls(sandbox, "invoke") == 0
