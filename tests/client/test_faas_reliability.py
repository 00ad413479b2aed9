"""Timeouts, retries, 401 replays, size limits and redirects: what is and is not sent twice."""

import pytest
import urllib3.util.connection

from liveperson_functions import client as client_module
from liveperson_functions.auth import ClientCredentials
from liveperson_functions.auth import UserBearer
from liveperson_functions.core import Retries
from liveperson_functions.errors import FaaSConnectionError
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSInputError
from liveperson_functions.errors import FaaSLambdaError

from .fakes import ACCOUNT
from .fakes import CLIENT_ID
from .fakes import CLIENT_SECRET
from .fakes import FN_UUID
from .fakes import Reply
from .fakes import free_port
from .fakes import resolver_for

INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"
IMPLEMENTED = f"/api/account/{ACCOUNT}/events/e1/isImplemented"
LIST = f"/api/account/{ACCOUNT}/lambdas"


def test_a_post_is_never_resent_after_a_read_timeout(raw_server, make_client):
    server = raw_server("silent")
    with pytest.raises(FaaSError) as caught:
        make_client(server.domain).invoke(FN_UUID, {"x": 1}, timeout=0.3)
    assert caught.value.kind == "read-timeout"
    assert "may or may not have run" in str(caught.value)
    assert "may or may not have run" in caught.value.explanation
    assert server.requests == 1


def test_a_stalled_answer_body_is_a_read_timeout_without_resending(raw_server, make_client):
    server = raw_server("partial")
    with pytest.raises(FaaSError) as caught:
        make_client(server.domain).invoke(FN_UUID, {}, timeout=0.3)
    assert caught.value.kind == "read-timeout"
    assert server.requests == 1


def test_a_post_is_never_resent_after_the_server_hangs_up(raw_server, make_client):
    server = raw_server("hangup")
    with pytest.raises(FaaSError) as caught:
        make_client(server.domain).invoke_event("e1", {}, timeout=2)
    assert caught.value.kind == "broken"
    assert "may or may not have run" in str(caught.value)
    assert server.requests == 1


def test_a_get_read_timeout_is_reported_without_resending(raw_server, make_client, monkeypatch):
    monkeypatch.setattr(client_module, "READ_TIMEOUT", 0.3)
    server = raw_server("silent")
    with pytest.raises(FaaSError) as caught:
        make_client(server.domain).is_implemented("e1")
    assert caught.value.kind == "timeout"
    assert server.requests == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 901])
def test_a_post_is_not_retried_on_error_statuses(fake, make_client, status):
    fake.reply("POST", INVOKE, Reply(status, {"message": "no"}, {"Retry-After": "0"}))
    with pytest.raises(FaaSDetailedError) as caught:
        make_client(fake.domain).invoke(FN_UUID, {})
    assert caught.value.status == status
    assert isinstance(caught.value, FaaSLambdaError) == (status == 901)
    assert len(fake.requests_to(INVOKE)) == 1


def test_a_post_is_retried_when_the_connection_never_opened(fake, make_client, monkeypatch):
    real = urllib3.util.connection.create_connection
    attempts = []

    def refuse_first(*args, **kwargs):
        attempts.append(args[0])
        if len(attempts) == 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse_first)
    fake.reply("POST", INVOKE, Reply(200, {"ran": True}))

    outcome = make_client(fake.domain).invoke(FN_UUID, {})

    assert outcome.result == {"ran": True}
    assert len(attempts) == 2
    assert len(fake.requests_to(INVOKE)) == 1


def test_a_refused_connection_says_the_function_did_not_run(make_client):
    with pytest.raises(FaaSError) as caught:
        make_client(f"127.0.0.1:{free_port()}").invoke(FN_UUID, {})
    assert caught.value.kind == "connect"
    assert "did not run" in str(caught.value)
    assert type(caught.value) is FaaSConnectionError


def test_a_get_is_retried_on_503_then_succeeds(fake, make_client):
    fake.reply(
        "GET",
        IMPLEMENTED,
        Reply(503, b"busy"),
        Reply(502, b"busy"),
        Reply(200, {"implemented": True}),
    )
    assert make_client(fake.domain).is_implemented("e1") is True
    assert len(fake.requests_to(IMPLEMENTED)) == 3


def test_a_get_is_retried_on_500_too(fake, make_client):
    fake.reply("GET", IMPLEMENTED, Reply(500, b"oops"), Reply(200, {"implemented": False}))
    assert make_client(fake.domain).is_implemented("e1") is False
    assert len(fake.requests_to(IMPLEMENTED)) == 2


def test_a_get_gives_up_after_three_attempts(fake, make_client):
    fake.reply("GET", LIST, Reply(504, b"slow"))
    with pytest.raises(FaaSDetailedError) as caught:
        make_client(fake.domain).list_functions()
    assert caught.value.status == 504
    assert len(fake.requests_to(LIST)) == 3


def test_a_get_honours_429_retry_after(fake, make_client):
    fake.reply(
        "GET", LIST, Reply(429, {"message": "slow down"}, {"Retry-After": "0"}), Reply(200, [])
    )
    assert make_client(fake.domain).list_functions() == []
    assert len(fake.requests_to(LIST)) == 2


def test_a_post_429_reports_retry_after(fake, make_client):
    fake.reply("POST", INVOKE, Reply(429, {"message": "slow down"}, {"Retry-After": "7"}))
    with pytest.raises(FaaSDetailedError) as caught:
        make_client(fake.domain).invoke(FN_UUID, {})
    assert (caught.value.status, caught.value.retry_after) == (429, 7)
    assert "rate limit" in caught.value.explanation


def test_the_retry_policy():
    policy = Retries()  # the real backoff settings, not the fast test ones
    assert policy.total == 2
    # The error-codes page calls 500, 502 and 504 possibly temporary.
    assert policy.statuses == {429, 500, 502, 503, 504}
    for status in sorted(policy.statuses):
        assert policy.delay("GET", 0, status=status) is not None
        assert policy.delay("POST", 0, status=status) is None  # a sent POST never again
    assert policy.delay("GET", 0, status=404) is None
    assert policy.delay("GET", 2, status=503) is None  # two retries at most
    # A refused connection (nothing sent) is tried once more at most, whatever the method.
    assert policy.delay("POST", 0, connect_failed=True) is not None
    assert policy.delay("POST", 1, connect_failed=True, connects_retried=1) is None
    # Retry-After is honoured up to 10 s.
    assert policy.delay("GET", 0, status=429, retry_after="3600") == 10
    assert policy.delay("GET", 0, status=429, retry_after="3") == 3
    # Every retry, the first included, waits a jittered backoff.
    delays = {policy.delay("GET", 0, status=503) for _ in range(20)}
    assert all(0.25 <= d <= 0.5 for d in delays) and len(delays) > 1
    assert Retries(total=0).delay("GET", 0, status=503) is None


def test_retries_are_the_client_s_to_set(fake, make_client):
    fake.reply("GET", LIST, Reply(503, {"message": "busy"}))
    with pytest.raises(FaaSDetailedError):
        make_client(fake.domain, retries=Retries(total=4, backoff=0.01, jitter=0)).list_functions()
    assert len(fake.requests_to(LIST)) == 5
    with pytest.raises(FaaSDetailedError):
        make_client(fake.domain, retries=0).list_functions()
    assert len(fake.requests_to(LIST)) == 6
    with pytest.raises(FaaSInputError):
        make_client(fake.domain, retries=-1)


def test_the_session(make_client, fake):
    session = make_client(fake.domain).session
    adapter = session.get_adapter("https://example.test/")
    assert session.trust_env is True  # HTTPS_PROXY, REQUESTS_CA_BUNDLE… as requests does
    assert adapter._pool_maxsize >= 32
    assert adapter.max_retries.total == 0  # the client retries, by the shared core's rule


def test_a_401_refreshes_once_and_replays_once(fake, make_client):
    tokens = ["old-token"]
    refreshes = []

    def refresh():
        refreshes.append(1)
        tokens.append("new-token")

    fake.reply("POST", INVOKE, Reply(401, {"message": "expired"}), Reply(200, {"ok": 1}))
    auth = UserBearer(lambda: tokens[-1], refresh=refresh)

    outcome = make_client(fake.domain, auth=auth).invoke(FN_UUID, {})

    first, second = fake.requests_to(INVOKE)
    assert outcome.result == {"ok": 1}
    assert len(refreshes) == 1
    assert first.headers["authorization"] == "Bearer old-token"
    assert second.headers["authorization"] == "Bearer new-token"
    assert first.body == second.body


def test_a_second_401_is_raised_after_one_refresh(fake, make_client):
    refreshes = []
    fake.reply("GET", LIST, Reply(401, {"message": "expired"}))
    auth = UserBearer(lambda: f"token-{len(refreshes)}", refresh=lambda: refreshes.append(1))

    with pytest.raises(FaaSDetailedError) as caught:
        make_client(fake.domain, auth=auth).list_functions()

    assert caught.value.status == 401
    assert len(refreshes) == 1
    assert len(fake.requests_to(LIST)) == 2


def test_a_401_without_a_refresh_hook_is_not_replayed(fake, make_client):
    fake.reply("POST", INVOKE, Reply(401, {"message": "expired"}))
    with pytest.raises(FaaSDetailedError):
        make_client(fake.domain).invoke(FN_UUID, {})
    assert len(fake.requests_to(INVOKE)) == 1


def test_a_401_with_client_credentials_fetches_a_new_app_token(fake, make_client):
    fake.reply("POST", INVOKE, Reply(401, {"message": "revoked"}), Reply(200, {"ok": 1}))
    resolver = resolver_for(fake.domain)
    auth = ClientCredentials(CLIENT_ID, CLIENT_SECRET, resolver, ACCOUNT)
    try:
        make_client(fake.domain, auth=auth).invoke(FN_UUID, {})
    finally:
        auth.close()
    first, second = fake.requests_to(INVOKE)
    assert len(fake.tokens_issued) == 2
    assert first.headers["authorization"] == f"Bearer {fake.tokens_issued[0]}"
    assert second.headers["authorization"] == f"Bearer {fake.tokens_issued[1]}"


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversize_answer_is_refused(fake, make_client, chunked):
    body = b'"' + b"x" * (5 * 1024 * 1024) + b'"'
    fake.reply("POST", INVOKE, Reply(200, body, chunked=chunked))
    with pytest.raises(FaaSError) as caught:
        make_client(fake.domain).invoke(FN_UUID, {})
    assert caught.value.kind == "too-large"
    assert "5 MB" in str(caught.value)


def test_an_answer_of_exactly_5_mb_is_accepted(fake, make_client):
    body = b'"' + b"x" * (5 * 1024 * 1024 - 2) + b'"'
    fake.reply("POST", INVOKE, Reply(200, body, chunked=True))
    assert len(make_client(fake.domain).invoke(FN_UUID, {}).result) == 5 * 1024 * 1024 - 2


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(fake, make_client, status):
    elsewhere = f"http://{fake.domain}/elsewhere?code=secret"
    fake.reply("POST", INVOKE, Reply(status, b"", {"Location": elsewhere}))
    fake.reply("GET", LIST, Reply(status, b"", {"Location": elsewhere}))
    client = make_client(fake.domain)
    for call in (lambda: client.invoke(FN_UUID, {}), client.list_functions):
        with pytest.raises(FaaSError) as caught:
            call()
        assert caught.value.kind == "redirect"
        assert caught.value.status == status
        assert f"HTTP {status}" in str(caught.value)
        assert "secret" not in str(caught.value)
    assert fake.requests_to("/elsewhere") == []
    assert len(fake.requests_to(INVOKE)) == len(fake.requests_to(LIST)) == 1


def test_a_discovery_failure_is_a_faas_error(make_client):
    from liveperson_functions.discovery import Resolver

    resolver = Resolver(ACCOUNT, f"http://127.0.0.1:{free_port()}", insecure_http=True)
    with pytest.raises(FaaSError) as caught:
        make_client("unused", resolver=resolver).invoke(FN_UUID, {})
    assert caught.value.kind == "discovery"
    resolver.http.close()
