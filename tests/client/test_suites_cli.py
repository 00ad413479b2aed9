"""`python -m liveperson_functions test suite.json` against the sandbox, with a JUnit file."""

import json
import xml.etree.ElementTree as ET

import pytest

from sandbox import functions as fn
from tests.client.test_cli_sandbox import bearer
from tests.client.test_cli_sandbox import faas
from tests.client.test_cli_sandbox import shared  # noqa: F401 (a fixture)
from tests.support import calls
from tests.support import sandbox_log

PASSING = [
    {
        "name": "greets Ada",
        "function": fn.GREETING,
        "payload": {"name": "Ada"},
        "headers": {"x-trace": "ci"},
        "expect": {"status": 200, "json": [{"path": "$.greeting", "matches": "^Hello, Ada"}]},
    },
    {
        "name": "order lookup fails",
        "function": fn.FAILING,
        "payload": {"orderId": "7"},
        "expect": {"outcome": "function-error", "status": 901},
    },
    {
        "name": "billing answers skill 1001",
        "event": fn.COMMAND_EVENT,
        "payload": {"command": "/balance"},
        "skillId": "1001",
        "expect": {"json": [{"path": "$", "contains": {"uuid": fn.BILLING_COMMAND}}]},
    },
]
WRONG = {
    "name": "echo, expected wrongly",
    "function": fn.ECHO,
    "payload": {"a": [1, 2]},
    "expect": {"json": [{"path": "$", "equals": {"a": [1, 3]}}]},
}


@pytest.fixture
def sandbox(shared):  # noqa: F811
    from tests.client.test_cli_sandbox import fresh

    return fresh(shared, "v1")


def write(tmp_path, data):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_a_failing_case_exits_1_and_the_junit_file_says_which(sandbox, tmp_path):
    suite = write(tmp_path, {"name": "Smoke", "cases": [*PASSING, WRONG]})
    report = tmp_path / "out.xml"
    done = faas(sandbox, "test", suite, "--junit", str(report))
    assert done.returncode == 1, done.stderr
    assert "PASS greets Ada" in done.stdout and "FAIL echo, expected wrongly" in done.stdout
    assert "3 passed, 1 failed" in done.stdout
    root = ET.parse(report).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "4", "1")
    (node,) = root.findall("testsuite")
    assert node.get("name") == "Smoke"
    cases = {c.get("name"): c for c in node.findall("testcase")}
    assert list(cases) == [c["name"] for c in [*PASSING, WRONG]]
    assert all(cases[c["name"]].find("failure") is None for c in PASSING)
    failure = cases[WRONG["name"]].find("failure")
    assert failure.get("message") == '$ equals: expected {"a": [1, 3]}, got {"a": [1, 2]}'
    assert "-    3" in failure.text and "+    2" in failure.text
    # Every case reached the gateway once, with its headers, as the app token.
    assert calls(sandbox, "invoke") == 3 and calls(sandbox, "app_token") == 1
    assert any("x-trace" in json.dumps(entry) for entry in sandbox_log(sandbox, "invoke"))


def test_all_passing_exits_0_with_a_user_bearer(sandbox, tmp_path):
    suite = write(
        tmp_path,
        {"suites": [{"name": "A", "cases": PASSING[:1]}, {"name": "B", "cases": PASSING[1:]}]},
    )
    report = tmp_path / "out.xml"
    done = faas(sandbox, "test", suite, "--junit", str(report), LP_BEARER=bearer(sandbox))
    assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(report).getroot()
    assert [s.get("name") for s in root.findall("testsuite")] == ["A", "B"]
    assert root.get("failures") == "0" and calls(sandbox, "app_token") == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "the file is not JSON"),
        ('{"name": "x", "cases": [{"function": "nope"}]}', 'case 1: "function" is not a valid'),
        ("[" * 100 + "]" * 100, "nests deeper than 64"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(sandbox, tmp_path, content, message):
    done = faas(sandbox, "test", write(tmp_path, content))
    assert done.returncode == 2 and message in done.stderr
    assert calls(sandbox, "invoke") == 0


MISSING = "00000000-0000-4000-8000-000000000000"
UNKNOWN = {"name": "unknown function", "function": MISSING, "payload": {}}


def test_a_platform_error_shows_its_status_code_and_message(sandbox, tmp_path):
    done = faas(sandbox, "test", write(tmp_path, {"name": "Smoke", "cases": [UNKNOWN]}))

    assert done.returncode == 1, done.stderr
    [seen] = sandbox_log(sandbox, "invoke")
    request_id = seen["headers"]["X-Request-ID"]
    lines = done.stdout.splitlines()
    failed = next(n for n, line in enumerate(lines) if line.startswith("  FAIL unknown function"))
    assert lines[failed + 1] == "       outcome: expected success, got platform-error"
    assert lines[failed + 2] == (
        "       platform-error: HTTP 404 com.liveperson.faas.es.missinglambda: "
        f"There is no {MISSING} deployed on {seen['path'].split('/')[3]} "
        f"(request id {request_id})"
    )


def test_json_prints_the_run_and_errors_on_stdout(sandbox, tmp_path):
    suite = write(tmp_path, {"name": "Smoke", "cases": [PASSING[0], UNKNOWN]})

    done = faas(sandbox, "test", suite, "--json")
    bad = faas(sandbox, "test", write(tmp_path, "{"), "--json")

    assert done.returncode == 1, done.stderr
    run = json.loads(done.stdout)
    assert (run["passed"], run["failed"]) == (1, 1)
    [smoke] = run["suites"]
    greeted, unknown = smoke["cases"]
    assert (greeted["passed"], greeted["status"]) == (True, 200)
    assert (unknown["outcome"], unknown["status"]) == ("platform-error", 404)
    assert unknown["body"]["code"] == "com.liveperson.faas.es.missinglambda"
    assert unknown["failures"] == [
        {"what": "outcome", "expected": "success", "got": "platform-error"}
    ]
    assert bad.returncode == 2 and bad.stderr == ""
    error = json.loads(bad.stdout)["error"]
    assert error["kind"] == "bad-input" and "the file is not JSON" in error["message"]
