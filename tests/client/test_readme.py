"""The README's "Use it from Python" (with the installed package, from any directory) and
"Command line" examples run as written on a sandbox."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import ACCOUNT_ID
from sandbox import functions as fn
from tests.support import ROOT
from tests.support import calls
from tests.support import start_sandbox

from .conftest import outside_env

README = ROOT / "README.md"
# Where the README says the sandbox is; each test's sandbox listens on a free port instead.
README_URL = "http://localhost:8001"
SECTIONS = ("## Use it from Python", "## Command line")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
TIMEOUT = 60


def section(title):
    """The text of a README section, from its heading to the next one."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(title, language):
    """The section's fenced code blocks in `language`, in order."""
    return [code for lang, code in FENCE.findall(section(title)) if lang == language]


@pytest.fixture(scope="module")
def sandbox():
    served = start_sandbox([], rate_limit=100_000)
    yield served
    served.stop()


def environment(sandbox, tmp_path):
    """A shell like a reader's: the virtualenv first on PATH, no LP_* (so sandbox mode)."""
    drop = ("LP_", "SANDBOX_", "FLASK_")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(drop) and not key.lower().endswith("_proxy")
    }
    return {
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "SANDBOX_URL": sandbox.url,
        # `flask faas` creates the app, which keeps its sandbox-mode key in the instance folder.
        "INSTANCE_PATH": str(tmp_path),
    }


def as_written(code, sandbox):
    return code.replace(README_URL, sandbox.url)


def test_the_sections_hold_the_examples_this_module_runs():
    assert len(blocks(SECTIONS[0], "python")) == 7
    assert len(blocks(SECTIONS[1], "sh")) == len(SH_EXPECTED)
    # Every example that runs talks to the sandbox the way the prose says.
    assert README_URL in "".join(blocks(SECTIONS[0], "python"))


def test_the_python_examples_run_in_order_as_one_script(sandbox, installed, tmp_path):
    script = "\n".join(as_written(code, sandbox) for code in blocks(SECTIONS[0], "python"))

    done = subprocess.run(
        # The package `pip install .` put in a fresh virtualenv, run outside the repository.
        [installed / "python", "-W", "error", "-"],
        input=script,
        cwd=tmp_path,
        env=outside_env(SANDBOX_URL=sandbox.url),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "{'greeting': 'Hello, Ada!'}" in out
    assert re.search(r"^200 [0-9a-f-]{36} \[\{.*'message': 'Greeting Ada'", out, re.M)
    assert f"{fn.BILLING_COMMAND} {{'command': '/balance', 'reply': 'Your balance" in out
    assert f"{fn.SUMMARISER} {{'conversationId': None" in out
    assert f"{fn.BILLING_COMMAND} Billing commands Modified {fn.COMMAND_EVENT}" in out
    assert (
        "The function failed: com.liveperson.faas.handler.custom-failure "
        "Order 7 could not be found" in out
    )
    assert "What happened: The function ran and reported an error" in out
    assert "Refused: 404 com.liveperson.faas.es.missinglambda None" in out
    assert "What happened: No function with this UUID exists" in out
    assert "Not sent: not a function UUID (8-4-4-4-12 hex): '42'" in out
    request_line = f"POST {sandbox.url}/api/account/{ACCOUNT_ID}/lambdas/{fn.GREETING}/invoke"
    assert f"{request_line}?v=1&externalSystem=Unknown\n" in out
    assert "{'name': 'Ada'} application/json" in out
    assert calls(sandbox, "list_functions") >= 1
    # The DEBUG record of each HTTP call: method, path, status, ms, request id; no secrets.
    implemented = f"/api/account/{ACCOUNT_ID}/events/{fn.COMMAND_EVENT}/isImplemented"
    assert re.search(
        rf"^HTTP GET {implemented} -> 200 in [0-9.]+ ms \(request id [0-9a-f-]{{36}}\)$", out, re.M
    )
    assert "Bearer" not in out and "secret" not in out
    assert re.search(r"^\d+\.\d+\.\d+ liveperson-functions/\S+ python/3\.\d+\.\d+$", out, re.M)
    # The async client: three concurrent invocations, in order, then isImplemented.
    assert "Hello, Ada!\nHello, Alan!\nHello, Grace!\nTrue\n" in out


def test_the_python_examples_pass_mypy_strict(installed, tmp_path):
    script = tmp_path / "examples.py"
    script.write_text("\n".join(blocks(SECTIONS[0], "python")), encoding="utf-8")

    # The repository's mypy, checking against the package `pip install .` put in a fresh
    # virtualenv (its py.typed and annotations), run outside the repository.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-executable", installed / "python"]
        + ["--cache-dir", str(tmp_path / "cache"), str(script)],
        cwd=tmp_path,
        env=outside_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found in 1 source file")


# For each ```sh block of "Command line", in order: what its output must show.
SH_EXPECTED = [
    (
        '"greeting": "Hello, Ada!"',
        "Result:",
        '"ping": 1',
        fn.BILLING_COMMAND,
        "Your balance",
        '"implemented": true',
    ),
    ("UUID", "Billing commands", "Greeting", "Modified"),
    (
        "exit code 1",
        "exit code 3",
        "\ncom.liveperson.faas.es.missinglambda\n",
        f"{fn.COMMAND_EVENT} is implemented.",
    ),
]


@pytest.mark.parametrize(("index", "expected"), list(enumerate(SH_EXPECTED)))
def test_the_shell_examples_run_as_written(sandbox, tmp_path, index, expected):
    code = as_written(blocks(SECTIONS[1], "sh")[index], sandbox)

    # -e and pipefail: a command in the block that fails unhandled fails the test.
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code],
        cwd=ROOT,
        env=environment(sandbox, tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stderr
    for text in expected:
        assert text in done.stdout, done.stdout
    # Failures are explained on stderr, never mixed into the output.
    assert ("What happened:" in done.stderr) == ("exit code" in code)
