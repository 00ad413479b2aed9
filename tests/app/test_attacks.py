"""Issue 13, the attacker's second round: each class of finding, on the file store and Redis.

Forged log lines and gunicorn's own trust in X-Forwarded-* are in tests/app/test_gunicorn.py
(they are about gunicorn itself); everything else is here.
"""

import io
import json
import logging
import os
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from markupsafe import escape

from app.sessions import SIGN_IN_TIME
from sandbox import functions as demo
from tests.support import Browser
from tests.support import Served
from tests.support import build_app
from tests.support import calls
from tests.support import relay
from tests.support import visible_text

COOKIE = "invoker_session"
PATIENCE = 10
TYPED = '{"typed": "by the user whose session ended"}'


@pytest.fixture
def app_overrides(either_store):
    return either_store


def store(app):
    return app.app.extensions["store"]


def session_of(app, browser):
    return store(app).get("session:" + browser.cookies.get(COOKIE))


def sign_in_as(browser, app, user):
    """Sign in as `user`, forgetting who was signed in at the sandbox (its SSO) first."""
    for domain in {c.domain for c in browser.cookies if c.domain != "127.0.0.1"}:
        browser.cookies.clear(domain=domain)
    page = browser.sign_in(app.url, user=user)
    assert "Signed in" in page.text
    return page


def stored_sessions(app):
    """How many sessions the store holds (Redis keys, or files in the file store)."""
    found = store(app)
    if hasattr(found, "client"):
        return len(found.client.keys("session:*"))
    # Every file but cachelib's own counter is an entry.
    return sum(1 for e in os.scandir(found.path) if e.is_file() and not e.name.startswith("__"))


# 2. No redirect from an untrusted Host ---------------------------------------------------------

MERGED_SLASHES = [
    "/admin//check",
    "/history//export",
    "/payloads//export",
    "/logout//everywhere",
    f"/functions//{demo.ECHO}",
]


@pytest.mark.parametrize("path", MERGED_SLASHES)
def test_slash_merging_redirect_never_uses_a_forged_host(app, path):
    forged = requests.get(f"{app.url}{path}", headers={"Host": "evil.test"}, allow_redirects=False)
    assert forged.status_code == 400
    assert "Location" not in forged.headers and "evil.test" not in forged.text
    own = requests.get(f"{app.url}{path}", allow_redirects=False)
    assert own.status_code == 308
    assert urlsplit(own.headers["Location"]).netloc == urlsplit(app.url).netloc


def test_forwarded_host_behind_a_proxy_is_checked_too(sandbox, tmp_path):
    served = Served("127.0.0.1")
    flask_app = build_app(sandbox, f"{served.url}/callback", tmp_path, LP_PROXY_HOPS="1")
    served.start(flask_app)
    try:
        forged = requests.get(
            f"{served.url}/admin//check",
            headers={"X-Forwarded-Host": "evil.test"},
            allow_redirects=False,
        )
        assert forged.status_code == 400 and "Location" not in forged.headers
    finally:
        served.stop()


def test_trusted_hosts_default_to_the_redirect_uri_and_loopback_in_sandbox_mode(tmp_path):
    from app import create_app

    real = create_app(
        {
            "LP_ACCOUNT_ID": "90412079",
            "LP_CLIENT_ID": "c",
            "LP_CLIENT_SECRET": "s",
            "LP_REDIRECT_URI": "https://invoker.example.com/callback",
            "SECRET_KEY": "k",
        },
        instance_path=str(tmp_path / "real"),
    )
    assert real.config["TRUSTED_HOSTS"] == ["invoker.example.com"]
    assert real.test_client().get("/healthz", headers={"Host": "localhost"}).status_code == 400
    sandboxed = create_app({}, instance_path=str(tmp_path / "sandbox")).test_client()
    for host in ("127.0.0.1:8000", "localhost:8000"):
        assert sandboxed.get("/healthz", headers={"Host": host}).status_code == 200
    assert sandboxed.get("/healthz", headers={"Host": "evil.test"}).status_code == 400


# 1. App log lines (gunicorn's are in test_gunicorn.py) ----------------------------------------


def test_request_text_in_an_app_log_line_is_escaped(app):
    from flask.logging import default_handler

    # Flask attaches its handler only when nothing else handles "app" (pytest's capture does):
    # attach it as under gunicorn, where it writes to stderr.
    written = io.StringIO()
    stream = default_handler.setStream(written)
    logger = logging.getLogger("app")
    logger.addHandler(default_handler)
    try:
        logging.getLogger("app.auth").warning("state=%s", "x\r\nFORGED line\x1b[31m\u2028y")
    finally:
        logger.removeHandler(default_handler)
        default_handler.setStream(stream)
    lines = written.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(r"state=x\r\nFORGED line\x1b[31m\u2028y")


# 3. Text that reaches the store -----------------------------------------------------------------


def import_file(browser, app, body):
    listing = browser.get(f"{app.url}/payloads")
    return browser.post(
        f"{app.url}/payloads/import",
        data={"csrf_token": browser.csrf(listing)},
        files={"file": ("payloads.json", body, "application/json")},
    )


def pages_still_answer(browser, app):
    for path in ("/payloads", "/payloads/export", f"/functions/{demo.ECHO}", "/history"):
        assert browser.get(f"{app.url}{path}").status_code == 200, path


def test_an_import_file_nested_400000_deep_is_refused_plainly(app, browser):
    browser.sign_in(app.url)
    deep = '{"savedPayloads": ' + "[" * 400_000 + "]" * 400_000 + "}"
    page = import_file(browser, app, deep)
    assert page.status_code == 200
    assert "Added 0 saved payloads; skipped 1 invalid: entry 1 is not an object" in page.text
    bare = import_file(browser, app, "[" * 400_000 + "]" * 400_000)
    assert "That file is not a saved-payloads export" in bare.text
    pages_still_answer(browser, app)


def test_bad_import_entries_are_named_and_never_stored(app, browser):
    browser.sign_in(app.url)

    def entry(name, payload="{}", target=demo.ECHO):
        return json.dumps({"kind": "function", "target": target, "name": name, "payload": payload})

    deep = '{"kind": "event", "target": "e", "name": "deep", "payload": "{}", "x": '
    deep += "[" * 100_000 + "]" * 100_000 + "}"
    entries = [
        entry("kept"),
        deep,
        entry("x\ud800"),  # json.dumps writes the lone surrogate as the escape \ud800
        entry("raw", '["\ud800"]'),
        entry("esc", '["\\udc00"]'),
        entry("nl", target=demo.ECHO + "\n"),
    ]
    body = '{"savedPayloads": [' + ", ".join(entries) + "]}"
    page = import_file(browser, app, body)
    text = visible_text(page)
    assert page.status_code == 200
    assert "Added 1 saved payload: “" in text and "; skipped 5 invalid" in text
    assert "entry 2 nests deeper than 64 levels" in text
    assert "entry 3 needs a name of 1 to 80 characters" in text
    assert "entry 4 (raw): the payload is not valid JSON: it holds a lone UTF-16 surrogate" in text
    assert "entry 5 (esc): the payload is not valid JSON: it holds a lone UTF-16 surrogate" in text
    assert "entry 6 names no function UUID or event id" in text
    exported = browser.get(f"{app.url}/payloads/export").json()["savedPayloads"]
    names = {item["name"] for item in exported}  # Redis is shared: other tests' names too
    assert "kept" in names and not names & {"deep", "x\ud800", "raw", "esc", "nl"}
    pages_still_answer(browser, app)


def test_a_lone_surrogate_typed_in_a_payload_is_a_form_error(app, sandbox, browser):
    browser.sign_in(app.url)
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    lone = '{"a": "x\\ud800"}'
    invoked = browser.form_post(page, {"payload": lone}, action=f"/functions/{demo.ECHO}")
    assert invoked.status_code == 400
    assert "lone UTF-16 surrogate" in visible_text(invoked)
    assert calls(sandbox, "invoke") == 0
    fields = {"kind": "function", "target": demo.ECHO, "name": "lone", "payload": lone}
    saved = browser.post(
        f"{app.url}/payloads",
        data={**fields, "csrf_token": browser.csrf(page)},
        headers={"Origin": app.url},
    )
    assert "Not saved" in visible_text(saved) and "lone UTF-16 surrogate" in visible_text(saved)
    exported = browser.get(f"{app.url}/payloads/export").json()["savedPayloads"]
    assert "lone" not in [item["name"] for item in exported]
    pages_still_answer(browser, app)


# 4. Sign out everywhere racing a refresh --------------------------------------------------------


class LateTokenEndpoint:
    """Sentinel's token endpoint answering refreshes late: rotated already, told when released."""

    def __init__(self, sandbox):
        self.target = sandbox.url
        self.rotated = threading.Event()
        self.answer = threading.Event()
        self.served = Served().start(self.wsgi)
        self.domain = f"127.0.0.1:{self.served.port}"

    def wsgi(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with Browser() as client:
            response = relay(client, self.target, environ, body, PATIENCE)
        if b"grant_type=refresh_token" in body:
            self.rotated.set()
            self.answer.wait(PATIENCE)
        start_response(f"{response.status_code} Relayed", [("Content-Type", "application/json")])
        return [response.content]


def test_sign_out_everywhere_during_a_refresh_leaves_no_token_anywhere(app, sandbox, browser):
    home = sign_in_as(browser, app, "agent")
    cookie = browser.cookies.get(COOKIE)
    key = "token:" + session_of(app, browser)["token_key"]
    record = store(app).get(key)
    record["expires_at"] = record["obtained_at"] = time.time() - 1
    store(app).set(key, record, 3600)
    late = LateTokenEndpoint(sandbox)
    app.app.extensions["resolver"].overrides["sentinel"] = late.domain
    outcome = {}

    def refreshing_request():
        page = browser.with_cookie(COOKIE, cookie).get(f"{app.url}/", timeout=PATIENCE)
        outcome["status"] = page.status_code

    refreshing = threading.Thread(target=refreshing_request)
    try:
        refreshing.start()
        assert late.rotated.wait(PATIENCE)  # Sentinel rotated; the app does not know yet
        confirm = browser.get(f"{app.url}/logout/everywhere")
        page = browser.form_post(confirm, {}, action="/logout/everywhere")
        assert "You are signed out" in visible_text(page)
    finally:
        late.answer.set()
        refreshing.join(PATIENCE)
        late.served.stop()
    assert outcome["status"] < 500
    assert store(app).get(key) is None  # no record written back for the ended session
    grants = sandbox.app.extensions["sandbox"].state.grants.values()
    assert grants and all(grant.revoked for grant in grants)  # the rotated token too
    assert "Sign in with LivePerson" in browser.with_cookie(COOKIE, cookie).get(app.url).text
    assert home.status_code == 200


# 5. A kept form belongs to the user whose session ended -----------------------------------------


def form_after_sign_out(app, browser, user="agent"):
    """Sign in as `user`, open the invoke page, sign out; return that (now stale) page."""
    sign_in_as(browser, app, user)
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout")
    return page


def prefilled(browser, app, user):
    sign_in_as(browser, app, user)
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    return str(escape(TYPED)) in page.text and "What you typed is back" in page.text


@pytest.mark.parametrize(("next_user", "expected"), [("agent", True), ("admin", False)])
def test_a_kept_form_goes_back_only_to_whoever_typed_it(
    app, sandbox, browser, next_user, expected
):
    page = form_after_sign_out(app, browser)
    sent = browser.form_post(page, {"payload": TYPED}, action=f"/functions/{demo.ECHO}")
    assert sent.status_code == 400 and "what you typed will be back" in visible_text(sent)
    assert prefilled(browser, app, next_user) is expected
    assert calls(sandbox, "invoke") == 0


@pytest.mark.parametrize(
    ("headers", "kept"),
    [
        pytest.param({"Sec-Fetch-Site": "same-origin"}, True, id="fetch-metadata-same-origin"),
        pytest.param({"Origin": "{own}"}, True, id="origin-own"),
        pytest.param({"Referer": "{own}/functions"}, True, id="referer-own"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, False, id="fetch-metadata-cross-site"),
        pytest.param({"Origin": "http://evil.test"}, False, id="origin-evil-no-fetch-metadata"),
        pytest.param({"Origin": "null"}, False, id="origin-null"),
        pytest.param({"Referer": "http://evil.test/x"}, False, id="referer-evil"),
        pytest.param({"Referer": "{own}.evil.test/x"}, False, id="referer-lookalike"),
        pytest.param({}, False, id="no-origin-at-all"),
        pytest.param(
            {"Sec-Fetch-Site": "cross-site", "Origin": "{own}"}, False, id="fetch-metadata-wins"
        ),
    ],
)
def test_a_form_is_kept_only_from_our_own_pages(app, browser, headers, kept):
    page = form_after_sign_out(app, browser)
    sent = browser.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"csrf_token": browser.csrf(page), "payload": TYPED},
        headers={name: value.format(own=app.url) for name, value in headers.items()},
    )
    assert sent.status_code == 400
    assert prefilled(browser, app, "agent") is kept


def test_a_session_never_signed_in_keeps_its_form_in_its_own_cookie_only(app, browser):
    # A browser whose cookies were cleared (issue 21 item 11): its form goes to whoever signs
    # in next in this browser, carried in its encrypted cookie, never in the store.
    before = stored_sessions(app)
    browser.get(f"{app.url}/")
    sent = browser.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"payload": TYPED},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": app.url},
    )
    assert sent.status_code == 400 and "what you typed will be back" in visible_text(sent)
    assert stored_sessions(app) == before
    assert prefilled(browser, app, "agent")


def test_a_long_form_of_a_session_never_signed_in_is_not_kept_and_the_page_says_so(app, browser):
    before = stored_sessions(app)
    sent = browser.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"payload": json.dumps({"long": "x" * 5000})},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": app.url},
    )
    text = visible_text(sent)
    assert sent.status_code == 400 and "too long to keep while you sign in" in text
    assert "data-back" in sent.text and "Sign in again" in text
    assert stored_sessions(app) == before
    assert not prefilled(browser, app, "agent")


def test_another_site_cannot_plant_a_form_in_a_signed_out_browser(app, browser):
    sent = browser.post(
        f"{app.url}/functions/{demo.ECHO}",
        data={"payload": TYPED},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.test"},
    )
    assert sent.status_code == 400 and "Form expired" in visible_text(sent)
    assert not prefilled(browser, app, "agent")


# 6. Sessions that never sign in cost the store nothing ----------------------------------------


def test_anonymous_logins_leave_nothing_in_the_store(app):
    before = stored_sessions(app)
    for _ in range(200):
        response = requests.get(f"{app.url}/login", allow_redirects=False)
        assert response.status_code == 302 and response.cookies.get(COOKIE)
    with Browser() as looping:  # keeping its cookie, with the longest `next` allowed
        for _ in range(20):
            response = looping.get(
                f"{app.url}/login", params={"next": "/" + "a" * 2040}, allow_redirects=False
            )
            assert response.status_code == 302
    assert stored_sessions(app) == before


def test_a_session_not_signed_in_is_short_lived(app, browser):
    browser.get(f"{app.url}/login", allow_redirects=False)
    assert app_cookie(browser).expires - time.time() <= SIGN_IN_TIME + 5
    # A form kept after a session ended is stored, but no longer than a sign-in takes.
    page = form_after_sign_out(app, browser)
    browser.form_post(page, {"payload": TYPED}, action=f"/functions/{demo.ECHO}")
    assert app_cookie(browser).expires - time.time() <= SIGN_IN_TIME + 5
    stored = store(app)
    if hasattr(stored, "client"):
        ttl = stored.client.ttl("session:" + browser.cookies.get(COOKIE))
        assert 0 < ttl <= SIGN_IN_TIME


def app_cookie(browser):
    return next(c for c in browser.cookies if c.name == COOKIE and c.domain == "127.0.0.1")


def test_a_signed_in_session_keeps_its_full_lifetime(app, browser):
    sign_in_as(browser, app, "agent")
    assert app_cookie(browser).expires - time.time() > 11 * 3600
    assert session_of(app, browser)["user"]["sub"] == "4000001"


def test_a_forged_carried_cookie_is_no_session(app):
    with Browser() as visitor:
        visitor.get(f"{app.url}/login", allow_redirects=False)
        carried = visitor.cookies.get(COOKIE)
    tampered = carried[:-6] + ("AAAAAA" if not carried.endswith("AAAAAA") else "BBBBBB")
    for value in (tampered, "c.not-a-token", "c."):
        home = Browser().with_cookie(COOKIE, value).get(f"{app.url}/")
        assert home.status_code == 200 and "Sign in with LivePerson" in home.text
