"""The `faas` command group, run in-process against the fake LivePerson servers."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from liveperson_functions import __version__
from liveperson_functions.cli import faas
from sandbox import ACCOUNT_ID

from .fakes import ACCOUNT
from .fakes import CLIENT_ID
from .fakes import CLIENT_SECRET
from .fakes import FN_UUID
from .fakes import Reply

INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"
ENV_KEYS = (
    "LP_ACCOUNT_ID",
    "LP_CSDS_URL",
    "LP_DOMAINS",
    "LP_INSECURE_HTTP",
    "LP_REGION",
    "LP_PLATFORM",
    "LP_CLIENT_ID",
    "LP_CLIENT_SECRET",
    "LP_BEARER",
    "SANDBOX_URL",
)


@pytest.fixture
def run(fake):
    """Run `faas …` with a clean LP_* environment pointed at the fake servers."""

    def invoke(*args, **env):
        base = dict.fromkeys(ENV_KEYS)
        base.update(
            LP_ACCOUNT_ID=ACCOUNT,
            LP_DOMAINS=f"sentinel={fake.domain},faasGW={fake.domain},faasUI={fake.domain}",
            LP_INSECURE_HTTP="1",
            LP_CLIENT_ID=CLIENT_ID,
            LP_CLIENT_SECRET=CLIENT_SECRET,
        )
        base.update(env)
        return CliRunner().invoke(faas, list(args), env=base, catch_exceptions=False)

    return invoke


def test_invoke_prints_json(fake, run, tmp_path):
    fake.reply("POST", INVOKE, Reply(200, {"answer": 42}))
    payload = tmp_path / "payload.json"
    payload.write_text('{"from": "file"}')

    result = run(
        "invoke",
        FN_UUID,
        "--payload",
        f"@{payload}",
        "--header",
        "a=1",
        "--header",
        "b=x=y",
        "--skill",
        "12",
        "--event-source",
        "cli",
    )

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["result"] == {"answer": 42}
    assert out["status"] == 200
    assert out["domain"] == fake.domain
    [seen] = fake.requests_to(INVOKE)
    assert out["request_id"] == seen.headers["x-request-id"]
    assert seen.json()["payload"] == {"from": "file"}
    assert seen.json()["headers"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "x=y"}]
    assert seen.query == [("v", "1"), ("externalSystem", "cli"), ("skillId", "12")]
    assert seen.headers["authorization"] == f"Bearer {fake.tokens_issued[0]}"
    assert fake.tokens_issued[0] not in result.output


def test_invoke_pretty(fake, run):
    fake.reply(
        "POST",
        INVOKE,
        Reply(200, {"result": {"answer": 42}, "logs": [{"level": "Info", "message": "hi"}]}),
    )
    result = run("invoke", FN_UUID, "--payload", '{"q": 1}', "--pretty")
    assert result.exit_code == 0, result.stderr
    assert "Status      200" in result.stdout
    assert '"answer": 42' in result.stdout
    assert "[Info] hi" in result.stdout


def test_a_failed_function_exits_1_with_advice(fake, run):
    fake.reply(
        "POST",
        INVOKE,
        Reply(
            901,
            {
                "errorCode": "com.liveperson.faas.handler.runtime-exception",
                "errorMsg": "TypeError: x is undefined",
                "errorLogs": [{"level": "Error", "message": "stack here"}],
            },
        ),
    )
    result = run("invoke", FN_UUID)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "com.liveperson.faas.handler.runtime-exception" in result.stderr
    assert "crashed with a runtime exception" in result.stderr
    assert "What to do: Read the function's logs" in result.stderr
    assert "[Error] stack here" in result.stderr


def test_a_platform_error_exits_3_with_advice(fake, run):
    fake.reply(
        "POST",
        INVOKE,
        Reply(404, {"errorCode": "com.liveperson.faas.es.notdeployed", "errorMsg": "Draft"}),
    )
    result = run("invoke", FN_UUID)
    assert result.exit_code == 3
    assert "not deployed" in result.stderr
    assert "Deploy it" in result.stderr


def test_invoke_event_and_is_implemented(fake, run):
    event = "conversational_command"
    fake.reply(
        "POST",
        f"/api/account/{ACCOUNT}/events/{event}/invoke",
        Reply(200, [{"uuid": FN_UUID, "timestamp": "t", "result": "ok"}]),
    )
    fake.reply(
        "GET",
        f"/api/account/{ACCOUNT}/events/{event}/isImplemented",
        Reply(200, {"implemented": False}),
    )

    invoked = run("invoke-event", event, "--payload", "[1]")
    asked = run("is-implemented", event, "--skill", "3")
    pretty = run("is-implemented", event, "--pretty")

    assert json.loads(invoked.stdout) == [{"uuid": FN_UUID, "timestamp": "t", "result": "ok"}]
    assert json.loads(asked.stdout) == {"event": event, "skill": "3", "implemented": False}
    assert pretty.stdout.strip() == f"{event} is not implemented."
    assert invoked.exit_code == asked.exit_code == pretty.exit_code == 0


def test_list(fake, run):
    fake.reply(
        "GET",
        f"/api/account/{ACCOUNT}/lambdas",
        Reply(
            200,
            [{"uuid": FN_UUID, "name": "greeter", "state": "Productive", "eventId": "e1"}],
        ),
    )
    plain = run("list", "--state", "Productive", "--event", "e1", "--name", "gr")
    pretty = run("list", "--pretty")

    assert plain.exit_code == 0 and pretty.exit_code == 0
    assert json.loads(plain.stdout)[0]["name"] == "greeter"
    first, _ = fake.requests_to(f"/api/account/{ACCOUNT}/lambdas")
    assert first.query == [("v", "1"), ("state", "Productive"), ("eventId", "e1"), ("name", "gr")]
    header, row = pretty.stdout.splitlines()
    assert header.split() == ["UUID", "NAME", "STATE", "EVENT", "UPDATED"]
    assert row.split() == [FN_UUID, "greeter", "Productive", "e1"]


def test_v2_platform_from_the_environment(fake, run):
    fake.reply("POST", INVOKE, Reply(200, {}))
    assert run("invoke", FN_UUID, LP_PLATFORM="v2").exit_code == 0
    [seen] = fake.requests_to(INVOKE)
    assert seen.query == [] and seen.headers["lp-eventsource"] == "Unknown"


def test_lp_bearer_wins_and_is_never_printed(fake, run):
    bearer = "user-bearer-0123456789abcdef"
    fake.handle(
        "POST",
        INVOKE,
        lambda seen: Reply(401, {"message": f"rejected {seen.headers['authorization']}"}),
    )
    result = run("invoke", FN_UUID, LP_BEARER=bearer)
    assert result.exit_code == 3
    assert fake.requests_to(INVOKE)[0].headers["authorization"] == f"Bearer {bearer}"
    assert fake.requests_to(fake.token_path) == []
    assert bearer not in result.output
    assert "rejected [redacted]" in result.stderr


def test_the_sandbox_is_the_default_target(fake, run):
    fake.account = ACCOUNT_ID
    fake.credentials = ("sandbox-m2m", "sandbox-m2m-secret")
    path = f"/api/account/{ACCOUNT_ID}/events/e1/isImplemented"
    fake.reply("GET", path, Reply(200, {"implemented": True}))

    result = run(
        "is-implemented",
        "e1",
        LP_ACCOUNT_ID=None,
        LP_DOMAINS=None,
        LP_INSECURE_HTTP=None,
        SANDBOX_URL=fake.url,
    )

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["implemented"] is True
    assert fake.seen[0].path == f"/api/account/{ACCOUNT_ID}/service/baseURI.json"
    token_request = fake.requests_to(f"/sentinel/api/account/{ACCOUNT_ID}/app/token")[0]
    assert token_request.form()["client_id"] == "sandbox-m2m"
    assert len(fake.requests_to(path)) == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("invoke", FN_UUID), {"LP_CLIENT_ID": None, "LP_CLIENT_SECRET": None}, "LP_CLIENT_ID"),
        (("invoke", FN_UUID, "--payload", "{nope"), {}, "not valid JSON"),
        (("invoke", FN_UUID, "--payload", "@/nonexistent/file.json"), {}, "cannot read"),
        (("invoke", FN_UUID, "--header", "novalue"), {}, "key=value"),
        (("invoke", "not-a-uuid"), {}, "UUID"),
        (("is-implemented", "bad/event"), {}, "event id"),
        (("list",), {"LP_DOMAINS": "bogus"}, "LP_DOMAINS"),
        (("list",), {"LP_PLATFORM": "v9"}, "LP_PLATFORM"),
        (("bogus-command",), {}, "No such command"),
    ],
)
def test_usage_errors_exit_2(fake, run, args, env, message):
    result = run(*args, **env)
    assert result.exit_code == 2
    assert message in result.stderr
    assert fake.seen == []


def test_a_bad_app_secret_exits_3_without_printing_it(fake, run):
    result = run("invoke", FN_UUID, LP_CLIENT_SECRET="wrong-secret-xyz")
    assert result.exit_code == 3
    assert "wrong-secret-xyz" not in result.output
    assert "LP_CLIENT_ID" in result.stderr


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "liveperson_functions", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == f"liveperson-functions, version {__version__}\n"


def test_json_puts_results_and_errors_on_stdout(fake, run):
    fake.reply("POST", INVOKE, Reply(200, {"ok": 1}))
    ok = run("invoke", FN_UUID, "--json")
    fake.reply(
        "POST",
        INVOKE,
        Reply(404, {"errorCode": "com.liveperson.faas.es.notdeployed", "errorMsg": "Draft"}),
    )
    refused = run("invoke", FN_UUID, "--json")

    assert ok.exit_code == 0 and json.loads(ok.stdout)["result"] == {"ok": 1}
    assert refused.exit_code == 3 and refused.stderr == ""
    error = json.loads(refused.stdout)["error"]
    [seen] = fake.requests_to(INVOKE)[1:]
    assert error == {
        "kind": "refused",
        "status": 404,
        "code": "com.liveperson.faas.es.notdeployed",
        "message": "Draft",
        "request_id": seen.headers["x-request-id"],
        "may_have_run": False,
        "explanation": error["explanation"],
        "advice": error["advice"],
    }
    assert "not deployed" in error["explanation"]


def test_a_function_failure_in_json_exits_1(fake, run):
    code = "com.liveperson.faas.handler.custom-failure"
    fake.reply("POST", INVOKE, Reply(901, {"errorCode": code, "errorMsg": "no order"}))
    failed = run("invoke", FN_UUID, "--json")
    assert failed.exit_code == 1 and failed.stderr == ""
    error = json.loads(failed.stdout)["error"]
    assert (error["kind"], error["status"], error["code"]) == ("function-failed", 901, code)


def test_no_answer_to_an_invocation_exits_4_may_have_run(fake, run, raw_server):
    silent = raw_server("silent")
    domains = f"sentinel={fake.domain},faasGW={silent.domain},faasUI={fake.domain}"

    text = run("invoke", FN_UUID, "--timeout", "0.3", LP_DOMAINS=domains)
    as_json = run("invoke", FN_UUID, "--timeout", "0.3", "--json", LP_DOMAINS=domains)

    assert text.exit_code == as_json.exit_code == 4
    assert "may or may not have run" in text.stderr
    error = json.loads(as_json.stdout)["error"]
    assert (error["kind"], error["may_have_run"], error["status"]) == ("read-timeout", True, None)
    assert silent.requests == 2  # once per run: never resent


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("invoke", FN_UUID), {"LP_CLIENT_ID": None, "LP_CLIENT_SECRET": None}, "LP_CLIENT_ID"),
        (("invoke", FN_UUID, "--payload", "{nope"), {}, "not valid JSON"),
        (("invoke", "not-a-uuid"), {}, "UUID"),
        (("is-implemented", "bad/event"), {}, "event id"),
        (("list",), {"LP_DOMAINS": "bogus"}, "LP_DOMAINS"),
        (("invoke", FN_UUID, "--skill", "billing"), {}, "skill id"),
    ],
)
def test_usage_errors_in_json_exit_2_on_stdout(fake, run, args, env, message):
    result = run(*args, "--json", **env)
    assert result.exit_code == 2
    assert result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "bad-input" and message in error["message"]
    assert error["may_have_run"] is False
    assert fake.seen == []


def test_help_documents_the_exit_codes_and_json():
    result = CliRunner().invoke(faas, ["--help"])
    assert result.exit_code == 0
    for line in ("0  success", "1  the function ran and failed", "2  usage error", "3  refused"):
        assert line in result.stdout
    assert "4  sent, but no answer" in result.stdout and "may have run" in result.stdout
    assert '{"error": {"kind", "status", "code", "message", "request_id"' in result.stdout
    for command in ("invoke", "invoke-event", "is-implemented", "list", "check", "test"):
        sub = CliRunner().invoke(faas, [command, "--help"])
        assert "--json" in sub.stdout, command
