"""Token expiry as Sentinel's two documented answers give it, and refusals of a dead token.

LivePerson's pages disagree: the Token API page shows a user token answer without expires_in,
the Token Request page lists it. The sandbox serves either (`token_shape`); the app must refresh
once per lifetime in both, and never explain a dead token's refusal as a missing permission.
"""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from app.auth import sentinel
from app.auth import tokens
from sandbox import functions as demo
from tests.support import calls
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import token_record
from tests.support import visible_text

LIFETIME = 3  # seconds an access token lives at the sandbox (and the id_token, at most)
PERMISSION = "permission"


@pytest.fixture(params=["documented", "expires-in"])
def sandbox_settings(request):
    return {"token_lifetime": LIFETIME, "token_shape": request.param}


@pytest.fixture
def app_overrides(either_store):
    return either_store


def functions_page(browser, app):
    """Read the function list from faasUI (not the worker's 30-second copy), as an agent."""
    registry = app.app.extensions["faas_clients"]
    registry.listed.clear()
    registry.may_list.clear()
    page = browser.get(f"{app.url}/functions")
    text = visible_text(page)
    assert page.status_code == 200, text[:300]
    assert "Greeting" in text and PERMISSION not in text
    return page


def refresh_tokens_sent(sandbox):
    return [p["refresh_token"] for p in sandbox_log(sandbox, "token") if "refresh_token" in p]


def test_two_refresh_cycles_one_refresh_per_lifetime(app, sandbox, browser, sandbox_settings):
    browser.sign_in(app.url)
    shape = sandbox_settings["token_shape"]
    home = visible_text(browser.get(f"{app.url}/"))
    source = "the token answer's expires_in" if shape == "expires-in" else "the id token's exp"
    assert f"expiry taken from {source}" in home
    for cycle in (1, 2):
        time.sleep(LIFETIME + 0.2)  # the sandbox's access token is dead by now
        functions_page(browser, app)
        # Reading and invoking within the new token's lifetime refreshes nothing more.
        functions_page(browser, app)
        result = invoke(browser, app, demo.GREETING, '{"name": "Ana"}')
        assert "Hello, Ana" in visible_text(result)
        assert calls(sandbox, "token") == 1 + cycle, cycle
    # Rotation: every refresh presented the newest refresh token, none twice.
    sent = refresh_tokens_sent(sandbox)
    assert len(sent) == 2 and len(set(sent)) == 2
    assert token_record(app, browser)["refreshes"] == 2


@pytest.mark.parametrize("sandbox_settings", [{"token_lifetime": 6, "token_shape": "expires-in"}])
def test_a_refresh_inside_the_window_is_not_followed_by_another(app, sandbox, browser):
    # The token is refreshed 0.6 s before it expires; the new expiry must come from the new
    # answer, not from the old id_token still valid for those 0.6 s (three refreshes in 1.6 s).
    browser.sign_in(app.url)
    time.sleep(5.55)
    for _ in range(4):
        functions_page(browser, app)
    assert calls(sandbox, "token") == 2
    assert "expiry taken from the token answer's expires_in" in visible_text(
        browser.get(f"{app.url}/")
    )


@pytest.mark.parametrize("sandbox_settings", [{"token_lifetime": LIFETIME}])
def test_a_dead_token_refused_by_faasui_is_refreshed_not_explained(app, sandbox, browser):
    browser.sign_in(app.url)
    # The documented answer holds no expires_in, and a refresh brings no id_token: after the
    # first refresh the app can only assume the 30-minute cadence, and the token dies sooner.
    time.sleep(LIFETIME + 0.2)
    functions_page(browser, app)
    assert "default 30-minute cadence" in visible_text(browser.get(f"{app.url}/"))
    time.sleep(LIFETIME + 0.2)
    refused_before = faasui_refusals(sandbox)
    functions_page(browser, app)
    assert faasui_refusals(sandbox) == refused_before + 1  # faasUI said 403 once...
    assert calls(sandbox, "token") == 3  # ...and one refresh made the read work


def faasui_refusals(sandbox):
    return sum(1 for entry in sandbox_log(sandbox, "list_functions") if entry["status"] == 403)


@pytest.mark.parametrize("sandbox_settings", [{}])
def test_a_permission_refused_with_a_fresh_token_is_explained(app, sandbox, browser):
    browser.sign_in(app.url, user="viewer")
    page = browser.get(f"{app.url}/functions")
    assert page.status_code == 403
    assert "FaaS-Invocation" in visible_text(page)
    # The refusal survived one renewed token before it was believed.
    assert faasui_refusals(sandbox) == 2
    assert calls(sandbox, "token") == 2


def test_an_audience_may_be_a_string_or_a_list_of_one():
    # OpenID Connect lets aud be one string or a list; the same client either way.
    tokens.same_user(identity("u1"), identity("u1", ["functions-invoker"]))
    assert tokens.audiences({"aud": ["a", "b"]}) == {"a", "b"}
    assert tokens.audiences({}) is None


@pytest.mark.parametrize("sandbox_settings", [{}])
@pytest.mark.parametrize(
    ("aud", "signed_in"),
    [(["functions-invoker"], True), (["functions-invoker", "other"], True), ("other", False)],
)
def test_sign_in_takes_an_id_token_for_this_client_only(
    app, sandbox, browser, monkeypatch, aud, signed_in
):
    def exchange(params, seen=None):
        return {
            "access_token": "a" * 64,
            "token_type": "Bearer",
            "refresh_token": "r" * 64,
            "id_token": identity("4000001", aud),
        }

    monkeypatch.setattr(sentinel, "exchange_code", exchange)
    page = browser.sign_in(app.url)
    assert ("User id 4000001" in visible_text(page)) is signed_in
    assert ("Sign-in failed" in visible_text(page)) is not signed_in


def identity(sub, aud="functions-invoker"):
    """An id_token naming `sub` (the app reads its claims only: the signature does not matter)."""
    claims = {"sub": sub, "aud": aud, "iss": "Sentinel", "exp": int(time.time()) + 600}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))


@pytest.mark.parametrize("sandbox_settings", [{}])
@pytest.mark.parametrize("claim", ["sub", "aud"])
def test_a_refresh_naming_another_user_signs_out(app, sandbox, browser, monkeypatch, claim):
    browser.sign_in(app.url)
    signed_in_as = tokens.claims(token_record(app, browser)["id_token"])
    other = {"sub": signed_in_as["sub"], "aud": signed_in_as["aud"], claim: "someone-else"}

    def exchange(refresh_token, seen=None):
        return {
            "access_token": "a" * 64,
            "token_type": "Bearer",
            "refresh_token": "r" * 64,
            "id_token": identity(other["sub"], other["aud"]),
        }

    monkeypatch.setattr(sentinel, "exchange_refresh_token", exchange)
    record = token_record(app, browser)
    record["expires_at"] = time.time() - 1
    store = app.app.extensions["store"]
    session = store.get("session:" + browser.cookies.get("invoker_session"))
    store.set("token:" + session["token_key"], record, 3600)
    page = browser.get(f"{app.url}/functions")
    assert page.status_code == 401
    assert "named another user" in visible_text(page)
    assert "Sign in with LivePerson" in browser.get(f"{app.url}/").text


@pytest.mark.parametrize(
    ("answer", "lifetime", "source"),
    [
        ({"expires_in": 20}, 20, "expires_in"),
        ({"expires_in": "20"}, 20, "expires_in"),
        ({"expires_in": "3600"}, 3600, "expires_in"),
        ({"expires_in": 0}, 1800, "default"),
        ({"expires_in": -5}, 1800, "default"),
        ({"expires_in": "soon"}, 1800, "default"),
        ({"expires_in": "nan"}, 1800, "default"),
        ({"expires_in": "inf"}, 1800, "default"),
        ({"expires_in": True}, 1800, "default"),
        ({"expires_in": None}, 1800, "default"),
        ({"expires_in": [20]}, 1800, "default"),
        ({}, 1800, "default"),
    ],
)
def test_expiry_reads_expires_in_as_a_number_or_numeric_string(answer, lifetime, source):
    now = 1_000_000.0
    assert tokens.expiry({"access_token": "opaque", **answer}, now) == (now + lifetime, source)


def test_expires_in_comes_before_an_exp_and_a_past_exp_is_ignored():
    now = time.time()
    id_token = identity("u1")
    assert tokens.expiry({"access_token": "x", "id_token": id_token, "expires_in": 20}, now)[
        1
    ] == ("expires_in")
    assert tokens.expiry({"access_token": "x", "id_token": id_token}, now)[1] == "id_token"
    old = jwt.encode({"alg": "HS256"}, {"sub": "u1", "exp": int(now) - 5}, OctKey.generate_key())
    assert tokens.expiry({"access_token": "x", "id_token": old}, now) == (now + 1800, "default")
