"""`make run` as a new user starts it: BIND moves the app and all that follows from it."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.support import ROOT
from tests.support import Browser
from tests.support import answers
from tests.support import free_port
from tests.support import signed_in

VENV = os.path.dirname(os.path.dirname(sys.executable))


def make_run(tmp_path, bind, **env):
    """Start `make run` with this venv (never reinstalled) in its own process group."""
    log = open(tmp_path / "make.log", "w+")  # noqa: SIM115 (closed by the caller)
    environ = {
        "PATH": os.environ["PATH"],
        "BIND": bind,
        "INSTANCE_PATH": str(tmp_path),
        "WEB_CONCURRENCY": "1",
        "THREADS": "4",
        **env,
    }
    process = subprocess.Popen(
        ["make", "-s", "-o", f"{VENV}/.installed", f"VENV={VENV}", "run"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def output(log):
    log.flush()
    log.seek(0)
    return log.read()


def test_bind_moves_the_app_the_sandbox_the_redirect_and_the_banner(tmp_path):
    port = free_port()
    while not all(free(p) for p in (port, port + 1)):
        port = free_port()
    process, log = make_run(tmp_path, f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not answers(url):
            assert process.poll() is None, output(log)
            assert time.monotonic() < deadline, output(log)
            time.sleep(0.2)
        banner = output(log)
        assert f"open {url} " in banner
        assert f"Sandbox LivePerson on http://localhost:{port + 1} " in banner
        assert "8000" not in banner and "8001" not in banner
        browser = Browser()
        start = browser.get(f"{url}/login", allow_redirects=False)
        assert f"localhost:{port + 1}/" in start.headers["Location"]
        assert f"127.0.0.1%3A{port}%2Fcallback" in start.headers["Location"]
        landing = browser.sign_in(url)
        assert landing.url.startswith(f"{url}/")
        assert signed_in(browser, type("App", (), {"url": url}))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


@pytest.mark.parametrize("taken", ["app", "sandbox"])
def test_a_taken_port_stops_make_run_with_one_sentence(tmp_path, taken):
    port = free_port()
    while not all(free(p) for p in (port, port + 1)):
        port = free_port()
    busy = port if taken == "app" else port + 1
    with socket.create_server(("127.0.0.1", busy)):
        process, log = make_run(tmp_path, f"127.0.0.1:{port}")
        try:
            process.wait(60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        # One sentence of ours; make adds its own "make: *** [run] Error 1".
        lines = [line for line in output(log).splitlines() if not line.startswith("make: ***")]
        log.close()
    assert process.returncode != 0
    assert len(lines) == 1, lines
    said = lines[0]
    assert f"port {busy} is in use" in said
    assert ("SANDBOX_PORT=" in said) == (taken == "sandbox")
    assert "BIND=" in said
    assert not answers(f"http://127.0.0.1:{port}")


def free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
