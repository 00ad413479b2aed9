"""Helpers for the sandbox's gateway and faasUI tests: a caller with tokens, a sandbox process."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import ACCOUNT_ID
from tests.support import ROOT
from tests.support import Browser

ACCOUNT = ACCOUNT_ID
CALLBACK = "http://127.0.0.1:8000/callback"
START_TIMEOUT = 30


class Caller:
    """Calls a served sandbox's gateway and faasUI with the tokens each kind of caller has."""

    def __init__(self, served):
        self.served = served
        self.url = served.url
        self.http = requests.Session()
        self.http.trust_env = False

    @property
    def sandbox(self):
        return self.served.app.extensions["sandbox"]

    def app_token(self, client_id="sandbox-m2m", secret="sandbox-m2m-secret"):
        """A client-credentials access token from Sentinel."""
        answer = self.http.post(
            f"{self.url}/sentinel/api/account/{ACCOUNT}/app/token",
            params={"v": "2.0"},
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def bearer(self, user):
        """A user bearer from agentVep's login."""
        answer = self.http.post(
            f"{self.url}/api/account/{ACCOUNT}/login",
            params={"v": "1.3"},
            json={"username": user, "password": user},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["bearer"]

    def user_token(self, user):
        """A user access token from Sentinel's authorization-code flow."""
        return self.user_tokens(user)["access_token"]

    def user_tokens(self, user):
        """Sentinel's whole token answer at the end of the authorization-code flow."""
        with Browser() as browser:
            page = browser.get(
                f"{self.url}/sentinel/api/account/{ACCOUNT}/authorize",
                params={
                    "v": "1.0",
                    "response_type": "code",
                    "client_id": "functions-invoker",
                    "redirect_uri": CALLBACK,
                    "state": "s" * 24,
                },
            )
            login = {"username": user, "password": user}
            back = browser.form_post(page, login, "signin", allow_redirects=False)
            code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
            answer = browser.post(
                f"{self.url}/sentinel/api/account/{ACCOUNT}/token",
                params={"v": "2.0"},
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
                auth=("functions-invoker", "sandbox-secret"),  # HTTP Basic, the default mode
            )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def refresh(self, refresh_token):
        """Sentinel's answer to a refresh_token grant."""
        return self.http.post(
            f"{self.url}/sentinel/api/account/{ACCOUNT}/token",
            params={"v": "2.0"},
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=("functions-invoker", "sandbox-secret"),
        )

    def call(self, method, path, token=None, account=ACCOUNT, **kwargs):
        """Call `/api/account/{account}/{path}` with `Authorization: Bearer token` if given."""
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(
            method, f"{self.url}/api/account/{account}/{path}", headers=headers, **kwargs
        )

    def invoke(self, uuid, payload, token, **kwargs):
        """Invoke by UUID with the V1 query, as the Node client sends it."""
        kwargs.setdefault("params", {"v": "1", "externalSystem": "tests"})
        body = {"timestamp": 0, "headers": [], "payload": payload}
        return self.call("POST", f"lambdas/{uuid}/invoke", token, json=body, **kwargs)

    def invoke_event(self, event_id, payload, token, **kwargs):
        body = {"timestamp": 0, "headers": [], "payload": payload}
        return self.call("POST", f"events/{event_id}/invoke", token, json=body, **kwargs)

    def close(self):
        self.http.close()


class SandboxProcess:
    """`python -m sandbox …` in a child process, its banner read from stdout."""

    BANNER = {
        "url": re.compile(r"^LivePerson sandbox on (\S+), account"),
        "cert": re.compile(r"^TLS certificate: (.+)$"),
        "gateway": re.compile(r"^Gateway, faasUI and agentVep also on (\S+)$"),
    }

    def __init__(self, args, log_path, env=None):
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args],
            cwd=ROOT,
            # Only the settings given here: none leak in from the developer's environment.
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")},
                **(env or {}),
            },
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.log_path = log_path
        self.found = {}
        lines = queue.Queue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                self.stop()
                pytest.fail(f"the sandbox did not start within {START_TIMEOUT} s")
            if line is None:
                self.stop()
                pytest.fail(f"the sandbox exited at start: {Path(log_path).read_text()}")
            if line.startswith("Ctrl-C stops"):
                break
            for name, pattern in self.BANNER.items():
                match = pattern.match(line)
                if match:
                    self.found[name] = match.group(1)

    def _read(self, lines):
        for line in self.process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    def __getattr__(self, name):
        if name in self.BANNER:
            return self.found.get(name)
        raise AttributeError(name)

    def stop(self):
        """End the process like Ctrl-C would (SIGTERM), and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process.stdout.close()
        self.log.close()
