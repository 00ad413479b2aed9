"""Upstream faults at Sentinel, CSDS and the gateway: each its own clear message in time."""

import re
import time

import pytest

from app.auth import sentinel
from liveperson_functions import client as faas_client
from sandbox import functions as demo
from tests.support import PATIENCE
from tests.support import Browser
from tests.support import FaultServer
from tests.support import build_app
from tests.support import expire_token
from tests.support import invoke
from tests.support import visible_text

FAULTS = [
    ("refused", "could not be reached"),
    ("hang", "did not answer in time"),
    ("reset", "could not be reached"),
    ("truncated", "cut its answer off"),
    ("html-502", "answered with an error (HTTP 502)"),
    ("html-200", "not a token"),
    ("redirect", "not a token"),
]


@pytest.fixture
def fault(request):
    mode = request.param
    server = FaultServer("hang" if mode == "refused" else mode)
    if mode == "refused":
        server.close()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def quick_timeouts(monkeypatch):
    monkeypatch.setattr(sentinel, "TIMEOUT", 0.5)
    monkeypatch.setattr(faas_client, "INVOKE_READ_TIMEOUT", 0.5)


def point(served_app, service, server):
    served_app.app.extensions["resolver"].overrides[service] = server.domain


@pytest.mark.parametrize(("fault", "said"), FAULTS, indirect=["fault"])
def test_refresh_faults_keep_the_session(app, sandbox, browser, fault, said):
    browser.sign_in(app.url)
    expire_token(app, browser)
    point(app, "sentinel", fault)
    page = browser.get(f"{app.url}/", timeout=PATIENCE)
    assert page.status_code == 503
    assert "still signed in" in visible_text(page)
    assert page.headers["Retry-After"]
    app.app.extensions["resolver"].overrides.pop("sentinel")
    assert "Signed in" in browser.get(f"{app.url}/").text


@pytest.mark.parametrize(("fault", "said"), FAULTS, indirect=["fault"])
def test_code_exchange_faults_say_why(app, sandbox, browser, fault, said):
    page = browser.get(f"{app.url}/login")
    callback = browser.form_post(
        page, {"username": "agent", "password": "agent"}, allow_redirects=False
    ).headers["Location"]
    point(app, "sentinel", fault)
    response = browser.get(callback, timeout=PATIENCE)
    assert response.status_code == 503
    text = visible_text(response)
    assert "Sign-in service unavailable" in text and said in text
    assert fault.requests <= 1  # a code is never exchanged twice
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("refused", "could not be reached"),
        ("hang", "could not be reached"),
        ("html-502", "answered HTTP 502"),
        ("html-200", "not the expected"),
        ("redirect", "answered HTTP 302"),
    ],
    indirect=["fault"],
)
def test_csds_faults_say_why(served_app, sandbox, tmp_path, fault, said):
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    resolver = flask_app.extensions["resolver"]
    resolver.csds_url, resolver.timeout = f"http://{fault.domain}", (0.5, 0.5)
    served_app.start(flask_app)
    response = Browser().get(f"{served_app.url}/login", allow_redirects=False, timeout=PATIENCE)
    assert response.status_code == 503
    assert said in visible_text(response)


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("hang", "may or may not have run"),
        ("reset", "The platform refused or failed"),
        ("truncated", "The platform refused or failed"),
        ("html-502", "HTTP status 502"),
        ("redirect", "The platform refused or failed"),
    ],
    indirect=["fault"],
)
def test_gateway_faults_are_explained_and_never_resent(app, browser, fault, said):
    browser.sign_in(app.url)
    point(app, "faasGW", fault)
    page = invoke(browser, app, demo.ECHO)
    text = visible_text(page)
    assert said in text
    assert "What happened:" in text
    assert "<script>alert(1)" not in page.text
    assert fault.requests == 1


@pytest.mark.parametrize("fault", ["status-502"], indirect=True)
def test_breaker_opens_then_lets_one_probe_through(app, browser, fault):
    browser.sign_in(app.url)
    point(app, "faasGW", fault)
    for _ in range(5):
        assert "HTTP status 502" in visible_text(invoke(browser, app, demo.ECHO))
    refused = invoke(browser, app, demo.ECHO)
    assert refused.status_code == 503
    assert "failed several times in a row" in visible_text(refused)
    assert refused.headers["Retry-After"]
    assert fault.requests == 5
    app.app.extensions["breakers"]["faasGW"].cooldown = 0.2
    time.sleep(0.3)
    invoke(browser, app, demo.ECHO)  # the one probe: it fails, so the breaker opens again
    assert fault.requests == 6
    assert invoke(browser, app, demo.ECHO).status_code == 503
    assert fault.requests == 6


@pytest.mark.parametrize("fault", ["status-503"], indirect=True)
def test_unconfirmed_revocation_is_retried_later(app, browser, fault, monkeypatch):
    monkeypatch.setattr(sentinel, "REVOKE_RETRIES", (0.05, 0.05))
    browser.sign_in(app.url)
    confirm = browser.get(f"{app.url}/logout/everywhere")
    point(app, "sentinel", fault)
    page = browser.form_post(confirm, {}, action="/logout/everywhere")
    text = visible_text(page)
    assert "did not confirm" in text and "keeps trying" in text
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text  # signed out at once
    assert "Sign out" not in re.search(r"<nav>.*?</nav>", page.text, re.S).group(0)
    deadline = time.monotonic() + PATIENCE
    while fault.requests < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fault.requests == 3  # the first attempt, then two later ones
