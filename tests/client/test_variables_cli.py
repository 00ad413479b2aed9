"""`invoke … --env vars.json` and `test suite.json --env vars.json` against the sandbox."""

import json

import pytest

from sandbox import functions as fn
from tests.client.test_cli_sandbox import faas
from tests.client.test_cli_sandbox import shared  # noqa: F401 (a fixture)
from tests.support import calls
from tests.support import sandbox_log


@pytest.fixture
def sandbox(shared):  # noqa: F811
    from tests.client.test_cli_sandbox import fresh

    return fresh(shared, "v1")


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "vars.json"
    path.write_text(
        json.dumps(
            {
                "variables": [
                    {"name": "who", "value": "Ada"},
                    {"name": "n", "value": "3"},
                    {"name": "key", "value": "k-secret-1", "secret": True},
                ]
            }
        )
    )
    return str(path)


def test_invoke_fills_variables_from_the_env_file(sandbox, env_file):
    done = faas(
        sandbox,
        "invoke",
        fn.ECHO,
        "--payload",
        '{"who": "{{who}}", "n": {{n}}}',
        "--header",
        "x-key={{key}}",
        "--env",
        env_file,
    )

    assert done.returncode == 0, done.stderr
    [seen] = sandbox_log(sandbox, "invoke")
    assert seen["body"]["payload"] == {"who": "Ada", "n": 3}
    assert seen["body"]["headers"] == [{"key": "x-key", "value": "k-secret-1"}]


def test_invoke_with_an_unknown_variable_sends_nothing(sandbox, env_file):
    done = faas(sandbox, "invoke", fn.ECHO, "--payload", '{"a": "{{nope}}"}', "--env", env_file)

    assert done.returncode == 2
    assert "{{nope}}" in done.stderr and "nothing sent" in done.stderr
    assert calls(sandbox, "invoke") == 0


def test_the_suite_runs_with_the_env_and_never_prints_the_secret(sandbox, env_file, tmp_path):
    suite = tmp_path / "suite.json"
    case = {"name": "echo", "function": fn.ECHO, "payload": {"k": "{{key}}", "w": "{{who}}"}}
    wrong = {**case, "name": "wrong", "expect": {"json": [{"path": "$.k", "equals": "x"}]}}
    suite.write_text(json.dumps({"name": "S", "cases": [case, wrong]}))
    report = tmp_path / "out.xml"

    done = faas(sandbox, "test", str(suite), "--env", env_file, "--junit", str(report))

    assert done.returncode == 1, done.stderr
    assert "PASS echo" in done.stdout and "FAIL wrong" in done.stdout
    assert "k-secret-1" not in done.stdout + done.stderr + report.read_text()
    assert "••••" in done.stdout
    assert sandbox_log(sandbox, "invoke")[0]["body"]["payload"] == {"k": "k-secret-1", "w": "Ada"}


def test_a_suite_with_an_unknown_variable_runs_nothing(sandbox, env_file, tmp_path):
    suite = tmp_path / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "name": "S",
                "cases": [
                    {"function": fn.ECHO, "payload": {}},
                    {"function": fn.ECHO, "payload": {"a": "{{x}}"}},
                ],
            }
        )
    )

    done = faas(sandbox, "test", str(suite), "--env", env_file)

    assert done.returncode == 2 and "{{x}}" in done.stderr
    assert calls(sandbox, "invoke") == 0


def test_an_unknown_variable_with_json_is_a_json_usage_error(sandbox, env_file):
    done = faas(
        sandbox, "invoke", fn.ECHO, "--payload", '{"a": "{{nope}}"}', "--env", env_file, "--json"
    )

    assert done.returncode == 2 and done.stderr == ""
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "bad-input" and "nope" in error["message"]
    assert calls(sandbox, "invoke") == 0
