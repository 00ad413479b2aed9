"""The app under gunicorn and the sandbox on its own origin, as `make run` serves them.

The sandbox runs as `python -m sandbox` on localhost, the app as `gunicorn -c
gunicorn.conf.py wsgi:app` on 127.0.0.1: two sites, so the sign-in redirect is cross-site,
exactly as with the real Sentinel. Used by the browser tests and by `make screenshots`.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support import ROOT
from tests.support import free_port

BIN = Path(sys.executable).parent


class ServerError(RuntimeError):
    """A server did not start; the message carries the end of its log."""


class Process:
    """A server subprocess with its output in a log file."""

    def __init__(self, name, argv, env, log_path, cwd=ROOT):
        self.name = name
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "w+")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, url, timeout=30):
        """Wait until `url` answers, or raise with the end of the log."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(url, timeout=1).close()
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.output()[-2000:]
                    raise ServerError(f"{self.name} did not start: {log}") from None
                time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Servers:
    """The sandbox (`sandbox_url`) and the app under gunicorn (`url`), started together;
    `ports` (sandbox, app) fixes their ports, else free ones are picked."""

    def __init__(self, tmp_dir, execution_limit="1", ports=None):
        tmp_dir = Path(tmp_dir)
        self.sandbox_port, self.app_port = ports or (free_port(), free_port())
        self.sandbox_url = f"http://localhost:{self.sandbox_port}"
        self.url = f"http://127.0.0.1:{self.app_port}"
        callback = f"{self.url}/callback"
        base = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1"}
        self.sandbox = Process(
            "the sandbox",
            [sys.executable, "-m", "sandbox", "--host", "localhost"]
            + ["--port", str(self.sandbox_port)],
            {
                **base,
                "SANDBOX_REDIRECT_URIS": callback,
                "SANDBOX_EXECUTION_LIMIT": execution_limit,
            },
            tmp_dir / "sandbox.log",
        )
        self.app = None
        try:
            self.sandbox.wait_for(f"{self.sandbox_url}/")
            instance = tmp_dir / "instance"
            instance.mkdir(exist_ok=True)
            self.app = Process(
                "gunicorn",
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                {
                    **base,
                    "SANDBOX_URL": self.sandbox_url,
                    "LP_REDIRECT_URI": callback,
                    "BIND": f"127.0.0.1:{self.app_port}",
                    "INSTANCE_PATH": str(instance),
                },
                tmp_dir / "gunicorn.log",
            )
            self.app.wait_for(f"{self.url}/healthz")
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self.app:
            self.app.stop()
        self.sandbox.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
