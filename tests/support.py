"""Test plumbing: WSGI apps on loopback ports, and a browser that signs in through the sandbox."""

import asyncio
import contextlib
import html
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import redis
import requests
from werkzeug.serving import make_server

from app import create_app
from app.sessions import CARRIED
from sandbox import ACCOUNT_ID
from sandbox import Settings
from sandbox import create_sandbox

# The repository's top folder, for tests that start its commands (gunicorn, the CLI, make).
ROOT = Path(__file__).resolve().parents[1]
# npm packages the tests use (axe-core, htmx.org), pinned in its package-lock.json.
NODE_DIR = ROOT / "tests" / "node"

FORM = re.compile(r'<form method="post" action="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)


def run_async(coroutine):
    """Run a coroutine to its end on a new event loop in its own thread: the browser tests'
    Playwright keeps a loop running in the main thread for the whole session."""
    outcome = {}

    def run():
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed back to the caller's thread as it was
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Served:
    """A WSGI app served by a threaded werkzeug server on a loopback port."""

    def __init__(self, host="127.0.0.1", url_host=None):
        self.server = make_server(host, 0, None, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{url_host or host}:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self, app):
        self.server.app = self.app = app
        self.thread.start()
        return self

    def stop(self):
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


def start_sandbox(redirect_uris=(), **settings):
    """Serve a fresh sandbox on localhost (a different site from the app on 127.0.0.1)."""
    served = Served(url_host="localhost")
    sandbox = create_sandbox(
        Settings(url=served.url, redirect_uris=tuple(redirect_uris), **settings)
    )
    return served.start(sandbox)


def app_settings(sandbox_url, callback, **overrides):
    """Settings that point the app at a sandbox through CSDS, as at a real account."""
    return {
        "LP_ACCOUNT_ID": ACCOUNT_ID,
        "LP_CLIENT_ID": "functions-invoker",
        "LP_CLIENT_SECRET": "sandbox-secret",
        "LP_REDIRECT_URI": callback,
        "LP_CSDS_URL": sandbox_url,
        "LP_INSECURE_HTTP": "1",
        "SECRET_KEY": "test-secret-key",
        **overrides,
    }


def calls(sandbox, endpoint):
    """How many calls an endpoint of the sandbox has received."""
    return sandbox.app.extensions["sandbox"].state.calls[endpoint]


def sandbox_log(sandbox, endpoint):
    """What each call to a sandbox endpoint received, oldest first."""
    log = sandbox.app.extensions["sandbox"].state.log
    return [entry["params"] for entry in log if entry["endpoint"] == endpoint]


class Browser(requests.Session):
    """A cookie-keeping HTTP client that reads pages the way a person would."""

    def __init__(self):
        super().__init__()
        self.trust_env = False

    def form_post(self, page, data, submit=None, action=None, **kwargs):
        """Submit a form of `page` (the first, or the one posting to `action`) as a browser
        would: its hidden inputs and textareas, overridden by `data`."""
        forms = [
            (html.unescape(m.group(1)), page.text[m.end() : page.text.find("</form>", m.end())])
            for m in FORM.finditer(page.text)
        ]
        action, body = next(
            (a, b) for a, b in forms if action is None or urlsplit(a).path == action
        )
        fields = {}
        for name, value in HIDDEN.findall(body):
            fields.setdefault(html.unescape(name), []).append(html.unescape(value))
        for name, value in TEXTAREA.findall(body):
            fields[html.unescape(name)] = [html.unescape(value)]
        fields.update(data)
        token = CSRF.search(page.text)
        if token:
            fields["csrf_token"] = token.group(1)
        if submit:
            fields[submit] = "1"
        # As browsers do: a form's POST says which origin sent it.
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        kwargs["headers"] = {"Origin": origin, **kwargs.get("headers", {})}
        return self.post(urljoin(page.url, action), data=fields, **kwargs)

    def sign_in(self, app_url, user="agent", password=None, next=None):
        """Go through the whole authorization-code flow; return the landing page."""
        params = {"next": next} if next is not None else None
        page = self.get(f"{app_url}/login", params=params)
        if 'name="continue"' in page.text:
            # The sandbox remembers someone: continue as them, or use another account.
            if f"Continue as {user}<" in page.text and password is None:
                return self.form_post(page, {}, submit="continue")
            page = self.form_post(page, {}, submit="another")
        if "Sign in" not in page.text or 'name="username"' not in page.text:
            return page
        return self.form_post(page, {"username": user, "password": password or user})

    def with_cookie(self, name, value):
        """Return a new browser holding only this cookie for the app's host."""
        other = Browser()
        other.cookies.set(name, value, domain="127.0.0.1", path="/")
        return other

    def csrf(self, page):
        """Return the CSRF token on a page."""
        return CSRF.search(page.text).group(1)


def callback(browser, app, query):
    """Call the app's sign-in callback with `query`, not following where it sends."""
    return browser.get(f"{app.url}/callback", params=query, allow_redirects=False)


def captured_callback(browser, app):
    """Sign in at Sentinel but stop before the app's callback; return the callback URL."""
    page = browser.get(f"{app.url}/login")
    response = browser.form_post(
        page, {"username": "agent", "password": "agent"}, allow_redirects=False
    )
    assert response.status_code == 302
    return response.headers["Location"]


def relay(client, target, environ, body, timeout):
    """Send on to `target` (the sandbox) a POST a test peer received, with the client's
    Content-Type and HTTP Basic credentials; return the answer."""
    return client.post(
        f"{target}{environ['PATH_INFO']}?{environ['QUERY_STRING']}",
        data=body,
        headers={
            "Content-Type": environ.get("CONTENT_TYPE", ""),
            "Authorization": environ.get("HTTP_AUTHORIZATION", ""),
        },
        timeout=timeout,
    )


def visible_text(page):
    """The page's text without tags, whitespace collapsed."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def build_app(sandbox, callback, tmp_path, **overrides):
    """Create the app against `sandbox`, with its instance folder in `tmp_path`."""
    return create_app(
        app_settings(sandbox.url, callback, **overrides), instance_path=str(tmp_path)
    )


def node_file(path):
    """Return a file of an npm package in tests/node/node_modules, after `npm ci` if needed."""
    found = NODE_DIR / "node_modules" / path
    if not found.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is not installed: the tests need {path} from npm.")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not found.exists():
            pytest.fail(f"`npm ci` in {NODE_DIR} failed:\n{done.stdout}\n{done.stderr}")
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_served(tmp_path, ready=None, sandbox_settings=None, sandbox=None, **env):
    """Run `gunicorn -c gunicorn.conf.py wsgi:app` with 2 workers in sandbox mode; yield it.

    `ready(url, log)` says when it may be used (default: it answers HTTP at all). Given a
    `sandbox`, it uses that one (and leaves it running) instead of starting its own.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    own_sandbox = sandbox is None
    if own_sandbox:
        sandbox = start_sandbox([f"{url}/callback"], **(sandbox_settings or {}))
    env = {
        "PATH": os.environ["PATH"],
        "SANDBOX_URL": sandbox.url,
        # What sandbox mode sets by itself; here for a test that names an account (LP_ACCOUNT_ID).
        "LP_CSDS_URL": sandbox.url,
        "LP_INSECURE_HTTP": "1",
        "LP_REDIRECT_URI": f"{url}/callback",
        "INSTANCE_PATH": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LP_DEMO_MODE": "0",
        **env,
    }
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 (closed below)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not (ready or answers)(url, log):
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"gunicorn did not start: {log.read()[-2000:]}")
        time.sleep(0.1)
    try:
        yield SimpleNamespace(url=url, sandbox=sandbox, process=process, log=log)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        if own_sandbox:
            sandbox.stop()


def answers(url, _log=None):
    """Tell whether a server answers HTTP at `url` (any status)."""
    try:
        requests.get(f"{url}/healthz", timeout=1)
    except (requests.ConnectionError, requests.Timeout):
        # A server still starting (on a busy machine) may accept and answer late.
        return False
    return True


class BlackHole:
    """A listener that accepts connections and never answers (a black-holed dependency)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


class RedisServer:
    """A throw-away redis-server process; the suite fails (never skips) without one."""

    def __init__(self, port=None, password=None):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: `make test` installs it (Debian package).")
        self.port = port or free_port()
        self.url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"]
            + (["--requirepass", password] if password else []),
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start within 10 s")
                time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


# A client-side guard: a hanging app fails the test instead of hanging the run.
PATIENCE = 8


def signed_in(browser, app):
    """Tell whether the browser's session is signed in, from the home page."""
    return "Signed in" in browser.get(f"{app.url}/", timeout=PATIENCE).text


def invoke(browser, app, uuid, payload="{}", **fields):
    """Open a function's page and send its invoke form, as a person would."""
    page = browser.get(f"{app.url}/functions/{uuid}", timeout=PATIENCE)
    return browser.form_post(
        page, {"payload": payload, **fields}, action=urlsplit(page.url).path, timeout=PATIENCE
    )


def sign_in_step_by_step(browser, app):
    """Sign in as agent with the walk-through's pauses, past the code exchange."""
    first = browser.get(f"{app.url}/login?walkthrough=1")
    go = re.search(r'href="([^"]+)">Continue to Sentinel', first.text).group(1)
    signin = browser.get(html.unescape(go))
    second = browser.form_post(signin, {"username": "agent", "password": "agent"})
    return browser.form_post(second, {}, action="/callback/exchange")


def copy_as(browser, result):
    """Open a result page's "Copy as" (without script: the page again, with its snippets)."""
    link = re.search(r'<a href="([^"]+)"[^>]*>Show the curl command', result.text)
    return browser.get(urljoin(result.url, html.unescape(link.group(1))), timeout=PATIENCE)


def expire_token(served_app, browser):
    """Make the signed-in browser's access token due for a refresh now."""
    store = served_app.app.extensions["store"]
    session = store.get("session:" + browser.cookies.get("invoker_session"))
    record = store.get("token:" + session["token_key"])
    record["expires_at"] = record["obtained_at"] = time.time() - 1
    store.set("token:" + session["token_key"], record, 3600)


def carried_session(served_app, browser):
    """Read the session a browser that is not signed in carries in its (encrypted) cookie."""
    fernet = served_app.app.session_interface.fernet
    value = browser.cookies.get("invoker_session").removeprefix(CARRIED)
    return json.loads(fernet.decrypt(value.encode()))


def carry(served_app, browser, data, age=0):
    """Put `data` in the browser's cookie as the app would have `age` seconds ago."""
    fernet = served_app.app.session_interface.fernet
    sealed = fernet.encrypt_at_time(json.dumps(data).encode(), int(time.time() - age)).decode()
    browser.cookies.set("invoker_session", CARRIED + sealed, domain="127.0.0.1", path="/")


def token_record(served_app, browser):
    """Read the signed-in browser's token record from the app's store, as tests may."""
    store = served_app.app.extensions["store"]
    session = store.get("session:" + browser.cookies.get("invoker_session"))
    return store.get("token:" + session["token_key"])


class FaultServer:
    """A socket-level HTTP peer that misbehaves on purpose, counting the requests it reads.

    Modes: hang (reads the request, never answers), reset, truncated, html-502, html-200,
    redirect, status-N (a JSON error with that status).
    """

    def __init__(self, mode):
        self.mode = mode
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.domain = f"127.0.0.1:{self.port}"
        self.open = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _read_request(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)):
            body += conn.recv(65536)
        self.requests += 1
        return True

    def _answer(self, conn):
        try:
            if not self._read_request(conn):
                return
            if self.mode == "hang":
                return
            if self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            conn.sendall(self._response())
            conn.close()
        except OSError:
            pass

    def _response(self):
        if self.mode == "truncated":
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + (
                b'Content-Length: 500\r\n\r\n{"access_token": "abc'
            )
        if self.mode == "redirect":
            return (
                b"HTTP/1.1 302 Found\r\nLocation: https://evil.test/\r\nContent-Length: 0\r\n\r\n"
            )
        if self.mode.startswith("html-"):
            status = self.mode.split("-")[1]
            body = b"<html><body><h1>Bad Gateway</h1><script>alert(1)</script></body></html>"
            return (
                f"HTTP/1.1 {status} Whatever\r\nContent-Type: text/html\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
        status = self.mode.split("-")[1]
        body = b'{"errorCode": "com.liveperson.faas.es.general", "errorMsg": "boom"}'
        return (
            f"HTTP/1.1 {status} Error\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    def close(self):
        # shutdown() first: close() alone leaves a thread blocked in accept() listening.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.open:
            with contextlib.suppress(OSError):
                conn.close()
