"""Copy as curl / Python run as printed against the sandbox, in both dialects, with their own
app token (the sandbox's demo app, prefilled in sandbox mode)."""

import html
import json
import os
import re
import subprocess
import sys

import pytest

from app import create_app
from sandbox import functions as demo
from tests.sandbox.test_node_client import NODE_DIR
from tests.sandbox.test_node_client import install
from tests.sandbox.test_node_client import tool
from tests.support import ROOT
from tests.support import calls
from tests.support import copy_as
from tests.support import sandbox_log


@pytest.fixture(params=["v1", "v2"])
def dialect(request):
    return request.param


@pytest.fixture
def sandbox_settings(dialect):
    return {"dialect": dialect}


@pytest.fixture
def app(sandbox, served_app, tmp_path, dialect):
    """The app in sandbox mode (no LP_ACCOUNT_ID), as `make run` starts it."""
    settings = {
        "SANDBOX_URL": sandbox.url,
        "LP_REDIRECT_URI": f"{served_app.url}/callback",
        "LP_DEMO_MODE": "0",
        "SECRET_KEY": "test-secret-key",
    }
    if dialect == "v2":
        settings["LP_PLATFORM"] = "v2"
    served_app.start(create_app(settings, instance_path=str(tmp_path)))
    return served_app


def snippet(page, name):
    return html.unescape(re.search(rf'<pre id="{name}"[^>]*>(.*?)</pre>', page.text, re.S)[1])


def clean_env():
    """The environment a user's shell would have: none of the app's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LP_", "SANDBOX_"))}


@pytest.mark.parametrize("target", ["function", "event"])
def test_the_snippets_run_as_printed(app, sandbox, browser, target, dialect):
    browser.sign_in(app.url, "agent")
    path = f"/functions/{demo.GREETING}" if target == "function" else "/events/my_event"
    page = browser.get(app.url + path)
    fields = {"payload": '{"name": "Ana"}', "header_name": "X-Team", "header_value": "blue"}
    result = copy_as(browser, browser.form_post(page, fields, action=path))
    assert "sandbox-m2m" in snippet(result, "python")
    before = calls(sandbox, "invoke") + calls(sandbox, "invoke_event")
    shell = subprocess.run(
        ["bash", "-c", snippet(result, "curl")],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert shell.returncode == 0, shell.stderr
    python = subprocess.run(
        [sys.executable, "-c", snippet(result, "python")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=clean_env(),
    )
    assert python.returncode == 0, python.stderr
    if target == "function":
        assert "Hello, Ana!" in shell.stdout and "Hello, Ana!" in python.stdout
    sent = sandbox_log(sandbox, "invoke" if target == "function" else "invoke_event")
    assert calls(sandbox, "invoke") + calls(sandbox, "invoke_event") == before + 2
    for call in sent[-2:]:
        assert call["principal"] == "app:sandbox-m2m"
        assert call["body"]["payload"] == {"name": "Ana"}
        assert {"key": "X-Team", "value": "blue"} in call["body"]["headers"]
    assert calls(sandbox, "app_token") == 2  # each fetched its own app token


def test_the_python_snippet_explains_a_failing_function_and_a_missing_client(
    app, browser, tmp_path, dialect
):
    browser.sign_in(app.url, "agent")
    path = f"/functions/{demo.FAILING}"
    result = copy_as(
        browser, browser.form_post(browser.get(app.url + path), {"payload": "{}"}, action=path)
    )
    script = snippet(result, "python")
    assert script.splitlines()[1].startswith("# Needs the liveperson_functions client: ")
    note = re.search(r'<p class="muted">([^<]*snippet[^<]*)</p>', result.text)[1]
    assert "runs as the app, which may be allowed more than you" in html.unescape(note)
    installed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**clean_env(), "PYTHONPATH": str(ROOT)},
    )
    assert installed.returncode == 1
    assert "Traceback" not in installed.stderr
    assert "The function failed: " in installed.stderr
    assert "Order 42 could not be found" in installed.stderr
    if dialect == "v1":  # a V1 901 carries the function's logs
        assert "Warn Order 42 is not in the order system" in installed.stderr
    missing = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean_env(),
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "Install the liveperson_functions client first: python -m pip install ." in (
        missing.stderr
    )


@pytest.mark.parametrize("target", ["function", "event", "failing"])
def test_the_node_snippet_runs_as_printed_with_liveperson_s_client(
    app, sandbox, browser, tmp_path, target, dialect
):
    install()  # LivePerson's liveperson-functions-client, pinned in tests/node (npm ci)
    browser.sign_in(app.url, "agent")
    path = {
        "function": f"/functions/{demo.GREETING}",
        "event": f"/events/{demo.COMMAND_EVENT}",
        "failing": f"/functions/{demo.FAILING}",
    }[target]
    fields = {"payload": '{"name": "Ana"}', "header_name": "X-Team", "header_value": "blue"}
    if target == "event":
        fields["skill_id"] = "1001"
    result = copy_as(browser, browser.form_post(browser.get(app.url + path), fields, action=path))
    script = snippet(result, "node")
    assert "require('liveperson-functions-client')" in script
    before = calls(sandbox, "invoke") + calls(sandbox, "invoke_event")
    ran = subprocess.run(
        [tool("node"), "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**clean_env(), "NODE_PATH": str(NODE_DIR / "node_modules")},
    )
    assert calls(sandbox, "invoke") + calls(sandbox, "invoke_event") == before + 1
    (sent,) = sandbox_log(sandbox, "invoke" if target != "event" else "invoke_event")[-1:]
    assert sent["principal"] == "app:sandbox-m2m"
    assert sent["body"]["payload"] == {"name": "Ana"}
    assert {"key": "X-Team", "value": "blue"} in sent["body"]["headers"]
    if target == "failing":
        assert ran.returncode == 1
        assert "901" in ran.stderr and "Order 42 could not be found" in ran.stderr
        return
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    if target == "function":
        # Greeting writes a log line, so the gateway answers {result, logs}.
        assert answer["result"] == {"greeting": "Hello, Ana!"}
    else:
        assert [each["uuid"] for each in answer] == [demo.SUMMARISER, demo.BILLING_COMMAND]
