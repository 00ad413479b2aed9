"""Where the user lands after signing in: only same-site relative paths (reference §5.2)."""

import pytest

from app.auth.views import safe_next

OFF_SITE = [
    "https://evil.test/",
    "http://evil.test",
    "evil.test/x",
    "//evil.test",
    "///evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "/\t/evil.test",
    "/%09/evil.test",
    "/\n/evil.test",
    "/\r\n/evil.test",
    "/ /evil.test",
    "/\v/evil.test",
    "/./\\evil.test",
    "/./../../\\evil.test",
    "/%2F%2Fevil.test",
    "/%5Cevil.test",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "JaVaScRiPt:alert(1)",
    "https://app.host.evil.test",
    "https://app.host@evil.test",
    "https://app.host:8443",
    "/a%0d%0aSet-Cookie:x=1",
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_next_lands_home(app, browser, target):
    page = browser.sign_in(app.url, next=target)
    assert page.status_code == 200
    assert page.url == f"{app.url}/"
    assert "Signed in" in page.text


@pytest.mark.parametrize("target", ["/", "/?tab=1", "/logout/everywhere"])
def test_same_site_next_is_honoured(app, browser, target):
    page = browser.sign_in(app.url, next=target)
    assert page.url == f"{app.url}{target}"


def test_login_required_page_comes_back_after_sign_in(app, browser):
    first = browser.get(f"{app.url}/logout/everywhere", allow_redirects=False)
    assert first.status_code == 303 and "/login?next=" in first.headers["Location"]
    page = browser.sign_in(app.url, next="/logout/everywhere")
    assert "Sign out of LivePerson everywhere?" in page.text


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_rejects(target):
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "target", ["/functions/abc", "/history?page=2", "/events/conversational_command"]
)
def test_safe_next_keeps(target):
    assert safe_next(target) == target
