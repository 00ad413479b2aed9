"""`python -m liveperson_functions` and `flask faas` as processes against the sandbox."""

import json
import os
import subprocess
import sys

import pytest
import requests

from sandbox import ACCOUNT_ID
from sandbox import functions as fn
from tests.support import ROOT
from tests.support import calls
from tests.support import sandbox_log
from tests.support import start_sandbox

ACCOUNT = ACCOUNT_ID
MISSING = "00000000-0000-4000-8000-000000000000"
TIMEOUT = 60


@pytest.fixture(scope="module")
def shared():
    """One sandbox per dialect for the module (each start costs an RSA key)."""
    served = {}
    yield served
    for sandbox in served.values():
        sandbox.stop()


@pytest.fixture
def sandbox(shared):
    """The V1 sandbox, its call records emptied for this test."""
    return fresh(shared, "v1")


def fresh(shared, dialect):
    if dialect not in shared:
        shared[dialect] = start_sandbox([], dialect=dialect, rate_limit=100_000)
    state = shared[dialect].app.extensions["sandbox"].state
    with state.lock:
        state.calls.clear()
        state.log.clear()
    return shared[dialect]


def environment(sandbox, **extra):
    """The caller's environment without LP_*, SANDBOX_* or FLASK_* settings: sandbox mode."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LP_", "SANDBOX_", "FLASK_"))
    }
    return {**env, "SANDBOX_URL": sandbox.url, **extra}


def faas(sandbox, *args, stdin=None, **env):
    """Run `python -m liveperson_functions ARGS` against the sandbox; return the process."""
    return subprocess.run(
        [sys.executable, "-m", "liveperson_functions", *args],
        cwd=ROOT,
        env=environment(sandbox, **env),
        # Never the test runner's own stdin.
        **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def bearer(sandbox, user="agent"):
    """A user bearer from the sandbox's agentVep login."""
    with requests.Session() as http:
        http.trust_env = False
        answer = http.post(
            f"{sandbox.url}/api/account/{ACCOUNT}/login",
            params={"v": "1.3"},
            json={"username": user, "password": user},
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["bearer"]


def test_invoke_prints_the_invocation_as_json(sandbox):
    done = faas(
        sandbox,
        "invoke",
        fn.GREETING,
        "--payload",
        '{"name": "Ada"}',
        "--header",
        "X-Trace=t-1",
        "--skill",
        "1001",
        "--event-source",
        "cli",
    )

    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["result"] == {"greeting": "Hello, Ada!"}
    assert out["status"] == 200
    assert out["domain"] == sandbox.url.removeprefix("http://")
    assert [entry["message"] for entry in out["logs"]] == ["Greeting Ada"]
    [seen] = sandbox_log(sandbox, "invoke")
    assert out["request_id"] == seen["headers"]["X-Request-ID"]
    assert seen["principal"] == "app:sandbox-m2m"
    assert seen["query"] == {"v": ["1"], "externalSystem": ["cli"], "skillId": ["1001"]}
    assert seen["body"]["headers"] == [{"key": "X-Trace", "value": "t-1"}]
    assert calls(sandbox, "app_token") == 1


def test_invoke_pretty_prints_a_readable_summary(sandbox):
    done = faas(sandbox, "invoke", fn.GREETING, "--payload", "@-", "--pretty", stdin='{"name": 7}')

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["Status", "200"]
    assert "Request id" in done.stdout and "Domain" in done.stdout
    assert lines[lines.index("Result:") + 1 :] == [
        "  {",
        '    "greeting": "Hello, 7!"',
        "  }",
        "Logs:",
        "  [Info] Greeting 7",
    ]


def test_a_failing_function_exits_1_and_explains_on_stderr(sandbox):
    done = faas(sandbox, "invoke", fn.FAILING, "--payload", '{"orderId": "9"}')

    assert done.returncode == 1
    assert done.stdout == ""
    assert "HTTP 901 com.liveperson.faas.handler.custom-failure" in done.stderr
    assert "Order 9 could not be found" in done.stderr
    assert "What happened: The function ran and reported an error" in done.stderr
    assert "What to do: Read the function's logs" in done.stderr
    [seen] = sandbox_log(sandbox, "invoke")
    assert f"Request id: {seen['headers']['X-Request-ID']}" in done.stderr
    assert "[Warn] Order 9 is not in the order system" in done.stderr


def test_an_unknown_function_exits_3_and_explains_on_stderr(sandbox):
    done = faas(sandbox, "invoke", MISSING)

    assert done.returncode == 3
    assert done.stdout == ""
    assert "com.liveperson.faas.es.missinglambda" in done.stderr
    assert "What happened: No function with this UUID exists" in done.stderr
    assert "list the account's functions" in done.stderr
    assert calls(sandbox, "invoke") == 1


def test_a_bad_uuid_is_a_usage_error_and_nothing_is_sent(sandbox):
    done = faas(sandbox, "invoke", "not-a-uuid")

    assert done.returncode == 2
    assert "Usage:" in done.stderr and "not a function UUID" in done.stderr
    assert calls(sandbox, "invoke") == 0


def test_invoke_event_and_is_implemented(sandbox):
    event = faas(sandbox, "invoke-event", fn.COMMAND_EVENT, "--skill", "2002")
    nothing = faas(sandbox, "invoke-event", "conversational_commands", "--pretty")
    implemented = faas(sandbox, "is-implemented", fn.COMMAND_EVENT, "--skill", "1001")

    assert event.returncode == 0, event.stderr
    [answer] = json.loads(event.stdout)
    assert answer["uuid"] == fn.SUMMARISER
    assert answer["result"]["summary"] == "0 messages between nobody."
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout == "No function implements conversational_commands.\n"
    assert implemented.returncode == 0, implemented.stderr
    assert json.loads(implemented.stdout) == {
        "event": fn.COMMAND_EVENT,
        "skill": "1001",
        "implemented": True,
    }
    queries = [entry["query"] for entry in sandbox_log(sandbox, "invoke_event")]
    assert queries[0]["skillId"] == ["2002"] and "skillId" not in queries[1]


def test_list_needs_a_user_bearer(sandbox):
    as_agent = faas(
        sandbox,
        "list",
        "--state",
        "Productive",
        "--event",
        fn.COMMAND_EVENT,
        LP_BEARER=bearer(sandbox),
    )
    as_app = faas(sandbox, "list")

    assert as_agent.returncode == 0, as_agent.stderr
    [summariser] = json.loads(as_agent.stdout)
    assert summariser["uuid"] == fn.SUMMARISER and summariser["state"] == "Productive"
    assert as_app.returncode == 3
    assert "HTTP 403" in as_app.stderr and "signed-in user" in as_app.stderr
    principals = [entry["principal"] for entry in sandbox_log(sandbox, "list_functions")]
    assert principals == ["user:agent", "app:sandbox-m2m"]


def test_list_pretty_prints_a_table(sandbox):
    done = faas(sandbox, "list", "--name", "command", "--pretty", LP_BEARER=bearer(sandbox))

    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header.split() == ["UUID", "NAME", "STATE", "EVENT", "UPDATED"]
    assert row.split()[:5] == [
        fn.BILLING_COMMAND,
        "Billing",
        "commands",
        "Modified",
        fn.COMMAND_EVENT,
    ]


def test_a_v2_sandbox_with_lp_platform_v2(shared):
    sandbox = fresh(shared, "v2")

    done = faas(sandbox, "invoke", fn.CRASHING, "--event-source", "cli", LP_PLATFORM="v2")

    assert done.returncode == 1
    assert "com.customer.faas.function.js-runtime-error" in done.stderr
    assert "What happened: The function ran and crashed" in done.stderr
    [seen] = sandbox_log(sandbox, "invoke")
    assert seen["query"] == {} and seen["headers"]["LP-EventSource"] == "cli"


def test_flask_faas_is_the_same_command_group(sandbox, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "faas", "is-implemented"]
        + [fn.COMMAND_EVENT, "--pretty"],
        cwd=ROOT,
        # The app factory runs first; in sandbox mode it keeps a generated key in INSTANCE_PATH.
        env=environment(sandbox, INSTANCE_PATH=str(tmp_path)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{fn.COMMAND_EVENT} is implemented.\n"
    assert calls(sandbox, "is_implemented") == 1


def test_user_id_is_sent_on_every_call_with_a_users_bearer(sandbox):
    agent = {"LP_BEARER": bearer(sandbox)}
    ran = [
        faas(sandbox, "invoke", fn.ECHO, "--user-id", "4000001", **agent),
        faas(sandbox, "is-implemented", fn.COMMAND_EVENT, "--user-id", "4000001", **agent),
        faas(sandbox, "list", "--user-id", "4000001", **agent),
        faas(sandbox, "invoke", fn.ECHO),  # the app's token: no user, no userId
    ]
    assert [process.returncode for process in ran] == [0, 0, 0, 0], ran[-1].stderr
    seen = [
        entry["userId"]
        for endpoint in ("invoke", "is_implemented", "list_functions")
        for entry in sandbox_log(sandbox, endpoint)
    ]
    assert seen == ["4000001", None, "4000001", "4000001"]


@pytest.mark.parametrize(
    ("mode", "basic", "post"),
    [("basic", True, False), ("post", False, True), ("both", True, True)],
)
def test_check_learns_which_client_authentication_sentinel_accepts(mode, basic, post):
    sandbox = start_sandbox([], client_auth=mode)
    try:
        ran = faas(sandbox, "check")
        findings = {f["name"]: f for f in json.loads(ran.stdout)}
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert findings["Host of sentinel"]["ok"] and findings["Host of faasGW"]["ok"]
        verdicts = {name.split(": ")[1]: f["ok"] for name, f in findings.items() if ": " in name}
        # ✓ when the client was authenticated; information only when it was not.
        assert verdicts["HTTP Basic (Authorization header)"] is (True if basic else None)
        assert verdicts["form body (client_secret)"] is (True if post else None)
        assert findings["Client authentication to use"]["ok"] is True
        assert findings["App token (client credentials)"]["ok"] is True
        # One made-up code per method; the app token in the body form; nothing invoked.
        assert [e["client_auth"] for e in sandbox_log(sandbox, "token")] == ["basic", "post"]
        assert [e["client_auth"] for e in sandbox_log(sandbox, "app_token")] == ["post"]
        assert calls(sandbox, "invoke") == calls(sandbox, "invoke_event") == 0
        assert "sandbox-m2m-secret" not in ran.stdout + ran.stderr
    finally:
        sandbox.stop()


def test_check_with_a_wrong_secret_says_what_to_fix(sandbox):
    ran = faas(
        sandbox,
        "check",
        "--pretty",
        LP_ACCOUNT_ID=ACCOUNT,
        LP_CSDS_URL=sandbox.url,
        LP_INSECURE_HTTP="1",
        LP_CLIENT_ID="sandbox-m2m",
        LP_CLIENT_SECRET="wrong",
    )
    assert ran.returncode == 2
    assert "✗ Client authentication to use: Sentinel authenticated the client with neither" in (
        ran.stdout
    )
    assert "Fix: Check that LP_CLIENT_ID and LP_CLIENT_SECRET" in ran.stdout
