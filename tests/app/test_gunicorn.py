"""The app under gunicorn with two workers: state and session survive landing on either."""

import os
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from sandbox import functions as demo
from tests.support import ROOT
from tests.support import Browser
from tests.support import calls
from tests.support import free_port
from tests.support import start_sandbox
from tests.support import visible_text


@pytest.fixture
def gunicorn_app(tmp_path):
    """Run `gunicorn -c gunicorn.conf.py wsgi:app` in sandbox mode against a test sandbox."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox([f"{url}/callback"], execution_limit=1.5)
    env = {
        "PATH": os.environ["PATH"],
        "SANDBOX_URL": sandbox.url,
        "LP_REDIRECT_URI": f"{url}/callback",
        "INSTANCE_PATH": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LP_DEMO_MODE": "0",
    }
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 (closed after the test)
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "gunicorn.conf.py"]
        + ["wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not start: {log.read()[-2000:]}")
            time.sleep(0.1)
    yield SimpleNamespace(url=url, sandbox=sandbox, process=process, log=log)
    process.terminate()
    process.wait(30)
    log.close()
    sandbox.stop()


def test_sign_in_across_two_workers(gunicorn_app):
    url, sandbox = gunicorn_app.url, gunicorn_app.sandbox
    for attempt in range(6):
        browser = Browser()
        # A new connection per request, so the kernel spreads requests over both workers.
        browser.headers["Connection"] = "close"
        page = browser.sign_in(url, next="/logout/everywhere")
        assert "Sign out of LivePerson everywhere?" in page.text, attempt
        home = browser.get(f"{url}/")
        assert "User id 4000001" in visible_text(home)
        page = browser.form_post(home, {}, action="/logout")
        assert "You are signed out" in page.text
    assert calls(sandbox, "token") == 6
    gunicorn_app.log.flush()
    gunicorn_app.log.seek(0)
    access = gunicorn_app.log.read()
    assert '"GET /callback"' in access
    assert "code=" not in access and "state=" not in access


def test_hup_loses_no_request_in_flight(gunicorn_app):
    url, sandbox = gunicorn_app.url, gunicorn_app.sandbox
    browser = Browser()
    browser.sign_in(url)
    page = browser.get(f"{url}/functions/{demo.SLOW}")
    cookie = browser.cookies.get("invoker_session")
    results = []

    def invoke():
        other = browser.with_cookie("invoker_session", cookie)
        results.append(other.form_post(page, {"payload": "{}"}, action=f"/functions/{demo.SLOW}"))

    threads = [threading.Thread(target=invoke) for _ in range(6)]
    for thread in threads:
        thread.start()
    while calls(sandbox, "invoke") < 6:
        time.sleep(0.02)
    os.kill(gunicorn_app.process.pid, signal.SIGHUP)
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 6
    assert all("The function failed" in r.text for r in results)
    assert "Signed in" in browser.get(f"{url}/").text


def test_bad_configuration_stops_gunicorn_with_one_sentence(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "LP_ACCOUNT_ID": "90412079",
        "INSTANCE_PATH": str(tmp_path),
        "BIND": f"127.0.0.1:{free_port()}",
    }
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "gunicorn.conf.py"]
        + ["wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "Functions Invoker cannot start: LP_CLIENT_ID is not set" in result.stderr
