"""LivePerson's official Node client (`liveperson-functions-client`) against the sandbox.

The client calls Sentinel over https (so the sandbox serves TLS and Node trusts its certificate
through NODE_EXTRA_CA_CERTS) and formats gateway and faasUI domains as bare host names (so they
are served on port 80 of 127.0.0.2, which needs root, as in CI). Missing node/npm or port 80
fail the test: it must not pass by being skipped.
"""

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from sandbox import functions as fn
from tests.sandbox.support import ACCOUNT
from tests.sandbox.support import ROOT
from tests.sandbox.support import SandboxProcess

NODE_DIR = ROOT / "tests" / "node"
PACKAGE = NODE_DIR / "node_modules" / "liveperson-functions-client" / "package.json"
GATEWAY_HOST = "127.0.0.2"
MISSING = "00000000-0000-4000-8000-000000000000"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed: the Node fidelity test needs Node.js 18+ and npm "
            "(Debian: apt-get install nodejs npm)."
        )
    return path


def install():
    """Install the pinned client into tests/node once (npm ci follows package-lock.json)."""
    if PACKAGE.exists():
        return
    command = [tool("npm"), "ci", "--no-audit", "--no-fund"]
    try:
        done = subprocess.run(
            command, cwd=NODE_DIR, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm ci` in {NODE_DIR} took longer than {INSTALL_TIMEOUT} s")
    if done.returncode != 0 or not PACKAGE.exists():
        pytest.fail(f"`npm ci` in {NODE_DIR} failed:\n{done.stdout}\n{done.stderr}")


def check_port_80():
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((GATEWAY_HOST, 80))
        except OSError as exc:
            pytest.fail(
                f"cannot listen on {GATEWAY_HOST}:80 ({exc}): the Node client cannot use a "
                "gateway domain with a port, so this test needs root (CI runs as root)."
            )


@pytest.fixture(scope="module")
def fidelity(tmp_path_factory):
    """fidelity.js's output and the calls the sandbox counted, or why they could not be had."""
    try:
        return run_fidelity(tmp_path_factory)
    except pytest.fail.Exception as exc:
        return exc  # each test then fails with it, rather than erroring in setup


def outcome(fidelity):
    if isinstance(fidelity, BaseException):
        pytest.fail(str(fidelity))
    return fidelity


def run_fidelity(tmp_path_factory):
    """Run tests/node/fidelity.js against a sandbox; return its output and the calls counted."""
    node = tool("node")
    install()
    check_port_80()
    log = tmp_path_factory.mktemp("node") / "sandbox.log"
    # An IP, not localhost: Node 18 may try ::1 first and not fall back to 127.0.0.1.
    args = ["--host", "127.0.0.1", "--port", "0", "--tls", "--gateway", GATEWAY_HOST]
    sandbox = SandboxProcess(args, log)
    try:
        env = {
            **os.environ,
            "NODE_EXTRA_CA_CERTS": sandbox.cert,
            "SANDBOX_CSDS": sandbox.gateway,
            "SANDBOX_ACCOUNT": ACCOUNT,
            "CLIENT_ID": "sandbox-m2m",
            "CLIENT_SECRET": "sandbox-m2m-secret",
            "USERNAME": "agent",
            "PASSWORD": "agent",
            "GREETING_UUID": fn.GREETING,
            "FAILING_UUID": fn.FAILING,
            "MISSING_UUID": MISSING,
        }
        try:
            done = subprocess.run(
                [node, "fidelity.js"],
                cwd=NODE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"fidelity.js ran longer than {RUN_TIMEOUT} s; see {log}")
        if done.returncode != 0:
            pytest.fail(
                f"fidelity.js failed:\n{done.stderr}\nsandbox log: {Path(log).read_text()}"
            )
        with requests.Session() as session:
            session.trust_env = False
            counted = session.get(f"{sandbox.gateway}/_sandbox/calls").json()
    finally:
        sandbox.stop()
    return json.loads(done.stdout), counted


def test_the_client_credentials_token_is_fetched_once_over_https(fidelity):
    out, counted = outcome(fidelity)
    assert out["token"] == {
        "scheme": "Bearer",
        "aud": ACCOUNT,
        "azp": "sandbox-m2m",
        "lifetime": 3600,
    }
    assert counted["app_token"] == 1  # an hour-long token is reused for every call


def test_invoke_by_uuid(fidelity):
    out, _ = outcome(fidelity)
    invoke = out["invoke"]["value"]
    assert invoke["status"] == 200
    assert invoke["body"]["result"] == {"greeting": "Hello, Node!"}
    assert [e["message"] for e in invoke["body"]["logs"]] == ["Greeting Node"]
    assert invoke["requestId"] == "fidelity-invoke-1"


def test_invoke_by_event_with_a_skill(fidelity):
    out, _ = outcome(fidelity)
    invoke = out["invokeEvent"]["value"]
    assert invoke["status"] == 200
    assert [i["uuid"] for i in invoke["body"]] == [fn.SUMMARISER, fn.BILLING_COMMAND]
    assert invoke["body"][1]["result"]["command"] == "/balance"


def test_is_implemented(fidelity):
    out, counted = outcome(fidelity)
    assert out["implemented"] == {"ok": True, "value": True}
    assert out["notImplemented"] == {"ok": True, "value": False}
    assert counted["is_implemented"] == 2


def test_a_901_surfaces_as_faas_lambda_error(fidelity):
    out, _ = outcome(fidelity)
    error = out["lambdaError"]["error"]
    assert error["name"] == "FaaSLambdaError" and error["status"] == 901
    assert error["body"]["errorCode"] == "com.liveperson.faas.handler.custom-failure"
    assert error["body"]["errorMsg"] == "Order 7 could not be found"


def test_a_missing_function_is_an_invoke_error(fidelity):
    out, _ = outcome(fidelity)
    error = out["missing"]["error"]
    assert error["name"] == "FaaSInvokeError" and error["status"] == 404
    assert error["body"] == {
        "errorCode": "com.liveperson.faas.es.missinglambda",
        "errorMsg": f"There is no {MISSING} deployed on {ACCOUNT}",
    }


def test_get_lambdas_needs_a_user_bearer(fidelity):
    out, counted = outcome(fidelity)
    refused = out["appGetLambdas"]["error"]
    assert refused["name"] == "FaaSGetLambdasError" and refused["status"] == 403
    assert out["getLambdas"] == {"ok": True, "value": [f.name for f in fn.DEMO]}
    assert out["getLambdasFiltered"] == {"ok": True, "value": ["Billing commands"]}
    assert counted["agentvep_login"] == 1
    assert counted["list_functions"] == 3
    assert counted["invoke"] == 3 and counted["invoke_event"] == 1
