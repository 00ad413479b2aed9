"""The user-bearer and client-credentials strategies: fetching, caching, renewal, failures."""

import threading

import pytest

from liveperson_functions.auth import ClientCredentials
from liveperson_functions.auth import UserBearer
from liveperson_functions.errors import FaaSError

from .fakes import ACCOUNT
from .fakes import CLIENT_ID
from .fakes import CLIENT_SECRET
from .fakes import Reply
from .fakes import free_port
from .fakes import resolver_for


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(fake):
    clock = Clock()
    fake.clock = clock
    return clock


@pytest.fixture
def app_auth(fake, clock):
    strategies = []

    def build(client_id=CLIENT_ID, secret=CLIENT_SECRET, sentinel=None):
        resolver = resolver_for(fake.domain, sentinel=sentinel)
        auth = ClientCredentials(client_id, secret, resolver, ACCOUNT, _clock=clock)
        strategies.append(auth)
        return auth

    yield build
    for auth in strategies:
        auth.close()


def test_client_credentials_request(fake, app_auth):
    header = app_auth().header()

    [seen] = fake.requests_to(fake.token_path)
    assert seen.method == "POST"
    assert seen.query == [("v", "2.0")]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form() == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert "authorization" not in seen.headers
    assert header == f"Bearer {fake.tokens_issued[0]}"


def test_the_token_is_cached(fake, app_auth):
    auth = app_auth()
    assert auth.header() == auth.header() == auth.header()
    assert len(fake.tokens_issued) == 1


def test_twenty_concurrent_callers_fetch_the_token_once(fake, app_auth):
    fake.token_delay = 0.2  # long enough that unsynchronised callers would all fetch
    auth = app_auth()
    barrier = threading.Barrier(20)
    headers = []

    def call():
        barrier.wait()
        headers.append(auth.header())

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fake.requests_to(fake.token_path)) == 1
    assert headers == [f"Bearer {fake.tokens_issued[0]}"] * 20


def test_the_token_is_renewed_five_minutes_before_it_expires(fake, app_auth, clock):
    auth = app_auth()
    first = auth.header()
    clock.now += 3600 - 301
    assert auth.header() == first
    clock.now += 2
    second = auth.header()
    assert second != first
    assert second == f"Bearer {fake.tokens_issued[1]}"


def test_an_expired_token_is_fetched_again(fake, app_auth, clock):
    auth = app_auth()
    auth.header()
    clock.now += 7200
    assert auth.header() == f"Bearer {fake.tokens_issued[1]}"
    assert len(fake.tokens_issued) == 2


def test_a_short_lived_token_is_renewed_at_half_its_life(fake, app_auth, clock):
    fake.token_lifetime = 100
    auth = app_auth()
    auth.header()
    clock.now += 49
    auth.header()
    assert len(fake.tokens_issued) == 1
    clock.now += 2
    auth.header()
    assert len(fake.tokens_issued) == 2


def test_a_failed_renewal_keeps_the_still_valid_token(fake, app_auth, clock):
    auth = app_auth()
    first = auth.header()
    fake.reply("POST", fake.token_path, Reply(503, b"down"))
    clock.now += 3500  # inside the renewal window, before expiry
    assert auth.header() == first
    attempts = len(fake.requests_to(fake.token_path))
    assert auth.header() == first  # no hammering Sentinel right after a failure
    assert len(fake.requests_to(fake.token_path)) == attempts
    clock.now += 200  # now expired: the failure must surface
    with pytest.raises(FaaSError) as caught:
        auth.header()
    assert caught.value.kind == "auth" and caught.value.status == 503


def test_bad_credentials_raise_an_auth_error_without_the_secret(fake, app_auth):
    auth = app_auth(secret="wrong-secret-value")
    with pytest.raises(FaaSError) as caught:
        auth.header()
    assert caught.value.kind == "auth"
    assert caught.value.status == 401
    assert "Bad client" in str(caught.value)
    assert "wrong-secret-value" not in str(caught.value)
    assert "wrong-secret-value" not in repr(auth)
    assert "LP_CLIENT_ID" in caught.value.advice


def test_an_unreachable_sentinel_is_an_auth_failure(app_auth):
    with pytest.raises(FaaSError) as caught:
        app_auth(sentinel=f"127.0.0.1:{free_port()}").header()
    assert caught.value.kind == "connect"


def test_an_opaque_token_uses_expires_in(fake, app_auth, clock):
    fake.reply(
        "POST",
        fake.token_path,
        Reply(200, {"access_token": "opaque-1", "token_type": "Bearer", "expires_in": "600"}),
    )
    auth = app_auth()
    assert auth.header() == "Bearer opaque-1"
    clock.now += 299
    auth.header()
    assert len(fake.requests_to(fake.token_path)) == 1
    clock.now += 2
    auth.header()
    assert len(fake.requests_to(fake.token_path)) == 2


def test_an_answer_without_a_token_is_an_auth_error(fake, app_auth):
    fake.reply("POST", fake.token_path, Reply(200, {"token_type": "Bearer"}))
    with pytest.raises(FaaSError) as caught:
        app_auth().header()
    assert caught.value.kind == "auth"


def test_refresh_skips_the_fetch_when_another_caller_already_renewed(fake, app_auth):
    auth = app_auth()
    stale = auth.header()
    assert auth.refresh(failed=stale) is True
    fresh = auth.header()
    assert fresh != stale
    assert auth.refresh(failed=stale) is True  # the stale one was already replaced
    assert auth.header() == fresh
    assert len(fake.tokens_issued) == 2


def test_user_bearer():
    tokens = ["t1"]
    auth = UserBearer(lambda: tokens[-1], refresh=lambda: tokens.append("t2"))
    assert auth.header() == "Bearer t1"
    assert auth.refresh(failed="Bearer t1") is True
    assert auth.header() == "Bearer t2"
    assert UserBearer(lambda: "t").refresh() is False


@pytest.mark.parametrize("get_token", [lambda: None, lambda: ""])
def test_user_bearer_without_a_token_is_an_auth_error(get_token):
    with pytest.raises(FaaSError) as caught:
        UserBearer(get_token).header()
    assert caught.value.kind == "auth"


class SignInEnded(Exception):
    """The host's own exception, as a web app raises when its user's sign-in has ended."""


def test_the_hosts_exception_from_get_token_propagates_unchanged():
    def get_token():
        raise SignInEnded("sign in again")

    with pytest.raises(SignInEnded, match="sign in again"):
        UserBearer(get_token).header()


def test_the_hosts_exception_from_refresh_propagates_unchanged():
    def refresh():
        raise SignInEnded("refresh token revoked")

    with pytest.raises(SignInEnded, match="refresh token revoked"):
        UserBearer(lambda: "t", refresh=refresh).refresh()
