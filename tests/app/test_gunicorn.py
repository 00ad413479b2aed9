"""The app under gunicorn with two workers: state and session survive landing on either."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import functions as demo
from tests.support import ROOT
from tests.support import Browser
from tests.support import calls
from tests.support import free_port
from tests.support import gunicorn_served
from tests.support import visible_text


@pytest.fixture
def gunicorn_app(tmp_path):
    """The app under gunicorn with two workers, against a test sandbox."""
    with gunicorn_served(tmp_path, sandbox_settings={"execution_limit": 1.5}) as served:
        yield served


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
    written = gunicorn_app.log.read()
    # One line per request, the app's: gunicorn writes no access line of its own.
    callbacks = [line for line in written.splitlines() if "path=/callback " in line]
    assert len(callbacks) == 6 and all("method=GET" in line for line in callbacks)
    assert "code=" not in written and "state=" not in written
    assert '"GET /callback' not in written
    # Every line was written: none failed to format (gunicorn's own show the process id).
    assert "--- Logging error ---" not in written and "Listening at: " in written


def raw_request(url, request_line, headers=()):
    """Send bytes as they are (no client re-encodes them) and return the status line."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    head = [request_line, f"Host: {host}:{port}", "Connection: close", *headers]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        return sock.makefile("rb").readline().decode("latin-1")


def test_request_text_never_forges_a_log_line(gunicorn_app):
    """Issue 13: %(U)s is the decoded path, so %0d%0a in it was a real line break."""
    forged = "/x%0d%0a127.0.0.1%20%22GET%20/admin%22%20200%20FORGED%1b[2J%c2%85%e2%80%a8end"
    assert " 404 " in raw_request(gunicorn_app.url, f"GET {forged} HTTP/1.1")
    # gunicorn refuses a control character in a header; its error log must not carry it.
    assert " 400 " in raw_request(gunicorn_app.url, "GET /y HTTP/1.1", ["X-Request-ID: a\x1bb"])
    time.sleep(0.3)  # the access log is written after the response
    gunicorn_app.log.flush()
    gunicorn_app.log.seek(0)
    written = gunicorn_app.log.read()
    lines = written.split("\n")
    assert not any("FORGED" in line and "path=/x" not in line for line in lines)
    assert not [c for c in written if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert "\u2028" not in written
    # The line is there, escaped.
    assert r'path=/x\r\n127.0.0.1 "GET /admin" 200 FORGED\x1b[2J' in written


def test_gunicorn_trusts_no_forwarded_headers_of_its_own(gunicorn_app):
    """Issue 13: LP_PROXY_HOPS is unset, so X-Forwarded-Proto from a loopback peer is ignored."""
    for header in ("X-Forwarded-Proto: https", "X-Forwarded-Ssl: on", "X-Forwarded-Protocol: ssl"):
        status = raw_request(gunicorn_app.url, "GET /healthz HTTP/1.1", [header])
        assert " 200 " in status, header
    for name, value in (("X-Forwarded-Proto", "https"), ("X-Forwarded-Ssl", "on")):
        answer = requests.get(f"{gunicorn_app.url}/", headers={name: value}, timeout=5)
        assert "Strict-Transport-Security" not in answer.headers, name
        assert "__Host-" not in answer.headers.get("Set-Cookie", "")


def test_untrusted_host_gets_no_redirect_under_gunicorn(gunicorn_app):
    """Issue 13: Werkzeug's slash merging answered 308 to http://evil.test/admin/check."""
    forged = requests.get(
        f"{gunicorn_app.url}/admin//check", headers={"Host": "evil.test"}, allow_redirects=False
    )
    assert forged.status_code == 400 and "Location" not in forged.headers
    own = requests.get(f"{gunicorn_app.url}/admin//check", allow_redirects=False)
    assert own.status_code == 308 and own.headers["Location"].startswith(gunicorn_app.url)


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


def gunicornc(socket_path, command):
    """Ask a gunicorn master a question through its control socket; return the JSON answer."""
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "gunicornc")]
        + ["-s", str(socket_path), "-c", command, "-j"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_two_instances_of_one_user_keep_their_own_control_socket(tmp_path):
    """Issue 24: both took $HOME/.gunicorn/gunicorn.ctl; stopping the second removed it."""
    home, one, two = tmp_path / "home", tmp_path / "one", tmp_path / "two"
    for folder in (home, one, two):
        folder.mkdir()
    env = {"HOME": str(home), "WEB_CONCURRENCY": "1"}
    with gunicorn_served(one, **env) as first:
        with gunicorn_served(two, sandbox=first.sandbox, **env) as second:
            for folder, served in ((one, first), (two, second)):
                listeners = json.dumps(gunicornc(folder / "gunicorn.ctl", "show listeners"))
                assert urlsplit(served.url).netloc in listeners
        # The second stopped: the first's socket is still its own, and still answers.
        listeners = json.dumps(gunicornc(one / "gunicorn.ctl", "show listeners"))
        assert urlsplit(first.url).netloc in listeners
        assert not (two / "gunicorn.ctl").exists()
    assert not (home / ".gunicorn").exists()


def test_a_reload_leaves_no_metrics_folder_behind(tmp_path):
    """Issue 24: after a HUP, gunicorn.conf.py no longer thought it owned the folder it made."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with gunicorn_served(tmp_path, TMPDIR=str(scratch), WEB_CONCURRENCY="1") as served:
        (made,) = scratch.glob("invoker-metrics-*")
        log = Path(served.log.name)
        os.kill(served.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while log.read_text().count("Booting worker") < 2:
            assert time.monotonic() < deadline, "no worker after the reload"
            time.sleep(0.1)
        assert requests.get(f"{served.url}/metrics", timeout=10).status_code == 200
        assert list(scratch.glob("invoker-metrics-*")) == [made]
    assert not list(scratch.glob("invoker-metrics-*"))
