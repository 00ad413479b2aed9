"""`python -m sandbox`: https with a certificate made at start, and a plain-http gateway."""

import os

import pytest
import requests

from sandbox import functions as fn
from sandbox import tls
from sandbox.__main__ import main
from tests.sandbox.support import ACCOUNT
from tests.sandbox.support import SandboxProcess


def http():
    session = requests.Session()
    session.trust_env = False
    return session


def test_tls_and_a_second_listener_share_one_sandbox(tmp_path):
    sandbox = SandboxProcess(
        ["--host", "localhost", "--port", "0", "--tls", "--gateway", "127.0.0.1:0"],
        tmp_path / "sandbox.log",
    )
    try:
        assert sandbox.url.startswith("https://localhost:")
        gateway = sandbox.gateway.removeprefix("http://")
        with http() as session:
            session.verify = sandbox.cert
            csds = session.get(f"{sandbox.url}/api/account/{ACCOUNT}/service/baseURI.json")
            domains = {e["service"]: e["baseURI"] for e in csds.json()["baseURIs"]}
            assert domains["sentinel"] == sandbox.url.removeprefix("https://")
            assert domains["faasGW"] == domains["faasUI"] == domains["agentVep"] == gateway
            token = session.post(
                f"{sandbox.url}/sentinel/api/account/{ACCOUNT}/app/token?v=2.0",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "sandbox-m2m",
                    "client_secret": "sandbox-m2m-secret",
                    "scope": "",
                },
            ).json()["access_token"]
            answer = session.post(
                f"http://{gateway}/api/account/{ACCOUNT}/lambdas/{fn.ECHO}/invoke",
                json={"payload": {"over": "http"}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.json() == {"over": "http"}
            counted = session.get(f"{sandbox.url}/_sandbox/calls").json()
            assert counted["app_token"] == 1 and counted["invoke"] == 1
    finally:
        sandbox.stop()
    assert sandbox.process.returncode == 0
    assert not os.path.exists(sandbox.cert), "the certificate's directory outlives the sandbox"


def test_cert_and_key_files(tmp_path):
    cert, key = tls.self_signed(str(tmp_path))
    sandbox = SandboxProcess(
        ["--host", "127.0.0.1", "--port", "0", "--cert", cert, "--key", key],
        tmp_path / "sandbox.log",
        env={"SANDBOX_DIALECT": "v2"},
    )
    try:
        assert sandbox.url.startswith("https://127.0.0.1:") and sandbox.cert is None
        with http() as session:
            page = session.get(f"{sandbox.url}/", verify=cert)
            assert "Functions <strong>V2</strong>" in page.text
            assert fn.SUMMARISER in page.text
            with pytest.raises(requests.exceptions.SSLError):
                session.get(f"{sandbox.url}/", verify=True)
    finally:
        sandbox.stop()
    assert os.path.exists(cert), "files given with --cert are the caller's to keep"


@pytest.mark.parametrize(
    "argv", [["--cert", "c.pem"], ["--key", "k.pem"], ["--tls", "--cert", "c", "--key", "k"]]
)
def test_inconsistent_tls_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert "--cert" in capsys.readouterr().err
