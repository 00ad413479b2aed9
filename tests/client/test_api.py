"""The library's API: one error class per failure kind, timeouts, from_env."""

import inspect
import logging
import subprocess
import sys

import pytest

import liveperson_functions
from liveperson_functions import AsyncFunctionsClient
from liveperson_functions import FaaSConnectionError
from liveperson_functions import FaaSDetailedError
from liveperson_functions import FaaSError
from liveperson_functions import FaaSInputError
from liveperson_functions import FaaSLambdaError
from liveperson_functions import FaaSTimeout
from liveperson_functions.auth import ClientCredentials
from liveperson_functions.auth import UserBearer
from liveperson_functions.discovery import Resolver
from liveperson_functions.env import SANDBOX_ACCOUNT
from liveperson_functions.env import from_env
from tests.support import run_async

from .fakes import ACCOUNT
from .fakes import FN_UUID
from .fakes import Reply
from .fakes import free_port
from .fakes import resolver_for

INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"
LIST = f"/api/account/{ACCOUNT}/lambdas"


def failure(call):
    with pytest.raises(FaaSError) as caught:
        call()
    return caught.value


def test_each_failure_kind_has_its_class_under_one_root(fake, make_client, raw_server):
    fake.reply("POST", INVOKE, Reply(404, {"errorCode": "com.liveperson.faas.es.missinglambda"}))
    refused = failure(lambda: make_client(f"127.0.0.1:{free_port()}").invoke(FN_UUID, {}))
    silent = raw_server("silent").domain
    timed_out = failure(lambda: make_client(silent).invoke(FN_UUID, {}, timeout=0.2))
    broken = failure(lambda: make_client(raw_server("hangup").domain).invoke(FN_UUID, {}))
    rejected = failure(lambda: make_client(fake.domain).invoke(FN_UUID, {}))

    assert (type(refused), refused.kind) == (FaaSConnectionError, "connect")
    assert (type(timed_out), timed_out.kind) == (FaaSTimeout, "read-timeout")
    assert (type(broken), broken.kind) == (FaaSConnectionError, "broken")
    assert (type(rejected), rejected.status, rejected.kind) == (FaaSDetailedError, 404, "refused")
    # The builtin bases, so code that catches those catches these.
    assert isinstance(refused, ConnectionError) and isinstance(broken, ConnectionError)
    assert isinstance(timed_out, TimeoutError) and not isinstance(rejected, OSError)
    # Only an invocation sent without an answer may have run.
    assert [e.may_have_run for e in (refused, timed_out, broken, rejected)] == [
        False,
        True,
        True,
        False,
    ]
    assert rejected.as_dict() == {
        "kind": "refused",
        "status": 404,
        "code": "com.liveperson.faas.es.missinglambda",
        "message": rejected.message,
        "request_id": rejected.request_id,
        "may_have_run": False,
        "explanation": rejected.explanation,
        "advice": rejected.advice,
    }
    assert rejected.code == "com.liveperson.faas.es.missinglambda"
    assert "No function with this UUID" in rejected.explanation
    assert len(fake.requests_to(INVOKE)) == 1


def test_a_function_failure_is_a_lambda_error(fake, make_client):
    code = "com.customer.faas.function.threw-error"
    fake.reply("POST", INVOKE, Reply(500, {"code": code, "message": "boom"}))

    failed = failure(lambda: make_client(fake.domain).invoke(FN_UUID, {}))

    assert isinstance(failed, FaaSLambdaError) and isinstance(failed, FaaSDetailedError)
    assert (failed.status, failed.code, failed.message) == (500, code, "boom")
    assert failed.kind == "function-failed"


def test_a_gateway_timeout_on_an_invocation_may_have_run(fake, make_client):
    fake.reply("POST", INVOKE, Reply(504, b"Gateway Timeout"))
    fake.reply("GET", LIST, Reply(504, b"Gateway Timeout"))

    invoked = failure(lambda: make_client(fake.domain).invoke(FN_UUID, {}))
    listed = failure(lambda: make_client(fake.domain, retries=0).list_functions())

    assert (invoked.status, invoked.may_have_run) == (504, True)
    assert (listed.status, listed.may_have_run) == (504, False)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda c: c.invoke("not-a-uuid", {}), "not a function UUID"),
        (lambda c: c.invoke(FN_UUID + "\n", {}), "not a function UUID"),
        (lambda c: c.invoke_event("bad event!", {}), "invalid event id"),
        (lambda c: c.invoke(FN_UUID, {"n": float("nan")}), "not JSON-serialisable"),
        (lambda c: c.invoke(FN_UUID, object()), "not JSON-serialisable"),
        (lambda c: c.invoke(FN_UUID, {}, headers={"a": 1}), "headers must map strings"),
        (lambda c: c.is_implemented("e1", skill_id="no spaces"), "invalid skill id"),
        (lambda c: c.invoke(FN_UUID, {}, skill_id="billing"), "invalid skill id (a number)"),
        (lambda c: c.invoke(FN_UUID, {}, skill_id=12.5), "invalid skill id (a number)"),
        (lambda c: c.invoke(FN_UUID, {}, headers=[1, 2]), "headers must map strings"),
        (lambda c: c.invoke(FN_UUID, {}, headers="a=1"), "headers must map strings"),
        (lambda c: c.invoke(FN_UUID, {}, headers=[("a", "1", "2")]), "headers must map"),
        (lambda c: c.invoke(FN_UUID, {}, headers=5), "headers must map strings"),
        (lambda c: c.list_functions(state=5), "invalid state filter"),
        (lambda c: c.invoke(FN_UUID, {}, timeout=-1), "timeout must be a positive"),
        (lambda c: c.list_functions(state=[""]), "invalid state filter"),
    ],
)
def test_bad_input_is_an_input_error_and_nothing_is_sent(fake, make_client, call, says):
    error = failure(lambda: call(make_client(fake.domain)))

    assert type(error) is FaaSInputError and isinstance(error, ValueError)
    assert says in str(error) and error.kind == "bad-input"
    assert "nothing was sent" in error.explanation.lower()
    assert fake.seen == []


def test_a_call_s_timeout_wins_over_the_client_s(raw_server, make_client):
    silent = raw_server("silent").domain
    client = make_client(silent, timeout=0.4)

    by_client = failure(lambda: client.is_implemented("e1"))
    by_call = failure(lambda: client.invoke(FN_UUID, {}, timeout=(5, 0.2)))

    assert (type(by_client), by_client.kind) == (FaaSTimeout, "timeout")
    assert "did not answer within 0.4 s" in str(by_client)
    assert "did not answer within 0.2 s" in str(by_call)


@pytest.mark.parametrize("timeout", [0, True, "5", (1, 2, 3), (None, -1)])
def test_a_client_timeout_must_be_seconds(make_client, timeout):
    with pytest.raises(FaaSInputError, match="timeout must be a positive"):
        make_client("127.0.0.1:9", timeout=timeout)


def test_from_env_reads_every_lp_setting():
    env = {
        "LP_ACCOUNT_ID": "le123456",
        "LP_CLIENT_ID": "app",
        "LP_CLIENT_SECRET": "secret",
        "LP_CSDS_URL": "http://127.0.0.1:9",
        "LP_DOMAINS": "faasGW=127.0.0.1:1,faasUI=127.0.0.1:2",
        "LP_REGION": "emea",
        "LP_PLATFORM": "V2",
        "LP_INSECURE_HTTP": "yes",
    }
    with from_env(env, timeout=3) as client:
        assert (client.account_id, client.platform, client.timeout) == (
            "le123456",
            "v2",
            (None, 3),
        )
        assert isinstance(client.auth, ClientCredentials) and client.auth.client_id == "app"
        resolver = client.resolver
        assert (resolver.csds_url, resolver.region, resolver.insecure_http) == (
            "http://127.0.0.1:9",
            "emea",
            True,
        )
        assert resolver.overrides == {"faasGW": "127.0.0.1:1", "faasUI": "127.0.0.1:2"}
        assert client.resolver.http is client.session is client.auth._session
    assert liveperson_functions.from_env is from_env


def test_from_env_without_an_account_is_the_sandbox_and_a_bearer_is_a_user():
    with from_env({"SANDBOX_URL": "http://127.0.0.1:8999", "LP_BEARER": "user-token"}) as client:
        assert client.account_id == SANDBOX_ACCOUNT
        assert client.resolver.csds_url == "http://127.0.0.1:8999"
        assert isinstance(client.auth, UserBearer)
        assert client.auth.header() == "Bearer user-token"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LP_ACCOUNT_ID": "a1"}, "Set LP_CLIENT_ID and LP_CLIENT_SECRET"),
        ({"LP_ACCOUNT_ID": "a1", "LP_BEARER": "t", "LP_REGION": "mars"}, "LP_REGION must be"),
        ({"LP_PLATFORM": "v3"}, "LP_PLATFORM must be v1 or v2"),
        ({"LP_DOMAINS": "nosuch=host"}, "LP_DOMAINS has a bad entry"),
        ({"LP_ACCOUNT_ID": "a1", "LP_BEARER": "t", "LP_INSECURE_HTTP": "maybe"}, "1 or 0"),
        ({"LP_ACCOUNT_ID": "a b", "LP_BEARER": "t"}, "invalid LivePerson account id"),
    ],
)
def test_from_env_names_the_bad_setting(env, says):
    with pytest.raises(FaaSInputError, match=says):
        from_env(env)


def test_headers_may_be_a_dict_pairs_or_key_value_dicts(fake, make_client):
    fake.reply("POST", INVOKE, Reply(200, {}))
    client = make_client(fake.domain)
    for headers in ({"a": "1"}, [("a", "1")], [["a", "1"]], [{"key": "a", "value": "1"}]):
        client.invoke(FN_UUID, {}, headers=headers, skill_id=7)
    bodies = [seen.json()["headers"] for seen in fake.requests_to(INVOKE)]
    assert bodies == [[{"key": "a", "value": "1"}]] * 4
    assert {dict(seen.query)["skillId"] for seen in fake.requests_to(INVOKE)} == {"7"}


def test_the_public_api_is_one_import():
    from liveperson_functions import ClientCredentials as TopCredentials
    from liveperson_functions import Resolver
    from liveperson_functions import Retries
    from liveperson_functions import UserBearer as TopBearer
    from liveperson_functions.discovery import Resolver as DiscoveryResolver

    assert (TopCredentials, TopBearer, Resolver) == (
        ClientCredentials,
        UserBearer,
        DiscoveryResolver,
    )
    assert Retries().total == 2
    assert set(liveperson_functions.__all__) <= set(dir(liveperson_functions)) | {
        "AsyncFunctionsClient"
    }
    assert liveperson_functions.AsyncFunctionsClient.__name__ == "AsyncFunctionsClient"
    assert liveperson_functions.__version__.count(".") == 2
    python = ".".join(str(part) for part in sys.version_info[:3])
    assert (
        f"liveperson-functions/{liveperson_functions.__version__} python/{python}"
    ) == liveperson_functions.USER_AGENT


def test_the_constructor_documents_itself_and_marks_its_test_hooks():
    signature = inspect.signature(liveperson_functions.FunctionsClient.__init__)
    doc = liveperson_functions.FunctionsClient.__init__.__doc__ or ""
    public = [name for name in signature.parameters if name != "self" and not name.startswith("_")]
    for name in public:
        assert f"{name}:" in doc or f"{name}," in doc, name
    assert [name for name in signature.parameters if name.startswith("_")] == [
        "_clock",
        "_implemented_ttl",
    ]
    assert "clock" not in public and "metrics" in public  # metrics is a supported hook


def test_one_debug_record_per_http_call_and_never_a_secret(fake, make_client, caplog):
    fake.reply("POST", INVOKE, Reply(200, {"ok": 1}))
    client = make_client(fake.domain, auth=UserBearer(lambda: "secret-token-123"))

    with caplog.at_level(logging.DEBUG, logger="liveperson_functions"):
        client.invoke(FN_UUID, {"card": "4111-secret-payload"}, request_id="rid-7")

    [record] = [r for r in caplog.records if r.name == "liveperson_functions"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith(f"HTTP POST {INVOKE} -> 200 in ")
    assert record.getMessage().endswith(" ms (request id rid-7)")
    assert (record.faas_method, record.faas_path, record.faas_status) == ("POST", INVOKE, 200)
    assert record.faas_request_id == "rid-7" and record.faas_ms >= 0
    text = caplog.text
    assert "secret-token-123" not in text and "4111" not in text and "externalSystem" not in text


def async_failure(domain, call, **options):
    """The FaaSError an AsyncFunctionsClient raises for `call(client)` against `domain`."""

    async def run():
        auth = UserBearer(lambda: "user-token")
        async with AsyncFunctionsClient(ACCOUNT, auth, resolver_for(domain), **options) as c:
            await call(c)

    with pytest.raises(FaaSError) as caught:
        run_async(run())
    return caught.value


def test_the_async_client_names_every_failure_kind_as_the_sync_one(fake, raw_server):
    huge = b'"' + b"x" * (5 * 1024 * 1024) + b'"'
    fake.reply("POST", INVOKE, Reply(200, huge, chunked=True))
    fake.reply("GET", LIST, Reply(302, b"", {"Location": "http://elsewhere.test/?code=s"}))
    silent, hangup = raw_server("silent"), raw_server("hangup")

    refused = async_failure(f"127.0.0.1:{free_port()}", lambda c: c.invoke(FN_UUID, {}))
    timed_out = async_failure(silent.domain, lambda c: c.invoke(FN_UUID, {}, timeout=0.2))
    slow_read = async_failure(silent.domain, lambda c: c.is_implemented("e1", timeout=0.2))
    broken = async_failure(hangup.domain, lambda c: c.invoke_event("e1", {}))
    too_large = async_failure(fake.domain, lambda c: c.invoke(FN_UUID, {}))
    redirect = async_failure(fake.domain, lambda c: c.list_functions())
    bad_input = async_failure(fake.domain, lambda c: c.invoke(FN_UUID, {}, headers=[1, 2]))

    assert (type(refused), refused.kind, refused.may_have_run) == (
        FaaSConnectionError,
        "connect",
        False,
    )
    assert (type(timed_out), timed_out.kind, timed_out.may_have_run) == (
        FaaSTimeout,
        "read-timeout",
        True,
    )
    assert (type(slow_read), slow_read.kind) == (FaaSTimeout, "timeout")
    assert (type(broken), broken.kind, broken.may_have_run) == (
        FaaSConnectionError,
        "broken",
        True,
    )
    assert (too_large.kind, redirect.kind, redirect.status) == ("too-large", "redirect", 302)
    assert "code=" not in str(redirect)  # no query in the message
    assert (type(bad_input), bad_input.kind) == (FaaSInputError, "bad-input")
    # Nothing was resent: one POST each to the silent and the hung-up servers, one GET.
    assert (silent.requests, hangup.requests) == (2, 1)
    assert len(fake.requests_to(INVOKE)) == len(fake.requests_to(LIST)) == 1


def test_without_httpx_the_async_client_says_which_extra_to_install():
    script = (
        "import sys; sys.modules['httpx'] = None\n"
        "import liveperson_functions\n"
        "liveperson_functions.FunctionsClient  # the sync client needs no httpx\n"
        "try:\n"
        "    liveperson_functions.AsyncFunctionsClient\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == (
        "AsyncFunctionsClient needs httpx: pip install 'liveperson-functions[async]'\n"
    )


def test_csds_lookups_leave_a_debug_record_too(fake, caplog):
    resolver = Resolver(ACCOUNT, fake.url, insecure_http=True)
    with caplog.at_level(logging.DEBUG, logger="liveperson_functions"):
        resolver.domain("faasGW")
        resolver.domain("faasUI")  # cached: no second call
    resolver.http.close()

    [record] = [r for r in caplog.records if r.name == "liveperson_functions"]
    path = f"/api/account/{ACCOUNT}/service/baseURI.json"
    assert record.getMessage().startswith(f"HTTP GET {path} -> 200 in ")
