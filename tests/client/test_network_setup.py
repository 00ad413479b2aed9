"""Proxies and CA bundles: both clients honour the environment as requests does, take
`verify=` and `proxies=`, and reach the sandbox through a loopback proxy and over TLS."""

import contextlib
import json
import shutil
import socket
import socketserver
import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from app.config import UPSTREAM_TRUST_ENV
from app.console import gateway
from liveperson_functions import USER_AGENT
from liveperson_functions import AsyncFunctionsClient
from liveperson_functions import FaaSConnectionError
from liveperson_functions import FunctionsClient
from liveperson_functions import Resolver
from liveperson_functions import UserBearer
from liveperson_functions import async_from_env
from liveperson_functions import from_env
from liveperson_functions.cli import faas
from liveperson_functions.transport import make_session
from sandbox import ACCOUNT_ID
from sandbox import Settings
from sandbox import create_sandbox
from sandbox import functions as fn
from sandbox import tls
from tests.support import build_app
from tests.support import calls
from tests.support import run_async
from tests.support import start_sandbox

ENVIRONMENT = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
APP = {"LP_CLIENT_ID": "sandbox-m2m", "LP_CLIENT_SECRET": "sandbox-m2m-secret"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No proxy or CA setting of the machine's: each test sets the ones it is about."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class Proxy(socketserver.ThreadingTCPServer):
    """A loopback HTTP proxy: absolute-form requests for http, CONNECT tunnels for https.

    `seen` lists each request line it was asked to carry, e.g. `CONNECT localhost:1234`.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.seen = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        line, *headers = head.decode("latin-1").split("\r\n")
        method, target, version = line.split(" ")
        self.server.seen.append(f"{method} {target}")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            where = target.split("://", 1)[1]
            netloc, _, path = where.partition("/")
            host, port = netloc.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            kept = [h for h in headers if not h.lower().startswith(("connection:", "proxy-"))]
            lines = [f"{method} /{path} {version}", *kept, "Connection: close"]
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if rest:
            upstream.sendall(rest)
        pipe(self.request, upstream)


def pipe(one, other):
    """Copy bytes both ways until either side closes."""

    def copy(source, target):
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    back = threading.Thread(target=copy, args=(other, one))
    back.start()
    copy(one, other)
    back.join()
    other.close()


@pytest.fixture
def proxy():
    server = Proxy()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sandbox():
    served = start_sandbox([], rate_limit=100_000)
    yield served
    served.stop()


class TlsSandbox:
    """The sandbox served over https with a certificate made for this test (as `--tls`)."""

    def __init__(self):
        self.cert, key = tls.self_signed()
        self.server = make_server(
            "127.0.0.1", 0, None, threaded=True, ssl_context=(self.cert, key)
        )
        self.url = f"https://localhost:{self.server.server_port}"
        self.app = create_sandbox(Settings(url=self.url, redirect_uris=(), rate_limit=100_000))
        self.server.app = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.cert.rsplit("/", 1)[0], ignore_errors=True)


@pytest.fixture(scope="module")
def tls_sandbox():
    served = TlsSandbox()
    yield served
    served.stop()


def env_for(url):
    return {"LP_ACCOUNT_ID": ACCOUNT_ID, "LP_CSDS_URL": url, **APP}


def greet(kind, env, **options):
    """Invoke the greeting function with a client from `env`; return its result."""
    if kind == "sync":
        with from_env(env, **options) as client:
            return client.invoke(fn.GREETING, {"name": "Ada"}).result

    async def run():
        async with async_from_env(env, **options) as client:
            return (await client.invoke(fn.GREETING, {"name": "Ada"})).result

    return run_async(run())


KINDS = ["sync", "async"]
HELLO = {"greeting": "Hello, Ada!"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_proxy_passed_to_the_client_carries_every_call(kind, sandbox, proxy):
    before = calls(sandbox, "invoke")
    env = {**env_for(sandbox.url), "LP_INSECURE_HTTP": "1"}

    assert greet(kind, env, proxies={"http": proxy.url}) == HELLO

    invoke = f"{sandbox.url}/api/account/{ACCOUNT_ID}/lambdas/{fn.GREETING}/invoke"
    assert f"POST {invoke}?v=1&externalSystem=Unknown" in proxy.seen
    assert any("/app/token" in line for line in proxy.seen)  # Sentinel too
    assert calls(sandbox, "invoke") == before + 1


@pytest.mark.parametrize("kind", KINDS)
def test_proxies_passed_win_over_the_environment(kind, sandbox, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    env = {**env_for(sandbox.url), "LP_INSECURE_HTTP": "1"}

    assert greet(kind, env, proxies={"http": proxy.url}) == HELLO
    assert any("/invoke?" in line for line in proxy.seen)


@pytest.mark.parametrize("kind", KINDS)
def test_http_proxy_and_no_proxy_from_the_environment(kind, sandbox, proxy, monkeypatch):
    env = {**env_for(sandbox.url), "LP_INSECURE_HTTP": "1"}
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    assert greet(kind, env) == HELLO
    through = len(proxy.seen)
    assert through >= 2  # CSDS (sync) or Sentinel, and the invocation

    assert greet(kind, env, trust_env=False) == HELLO  # the environment ignored
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert greet(kind, env) == HELLO  # the sandbox's host bypasses the proxy
    assert len(proxy.seen) == through


@pytest.mark.parametrize("kind", KINDS)
def test_a_proxy_that_refuses_means_nothing_was_sent(kind, sandbox, monkeypatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    resolver = Resolver(ACCOUNT_ID, sandbox.url, insecure_http=True, http=make_session())
    proxies = {"http": f"http://127.0.0.1:{port}"}
    before = calls(sandbox, "invoke")

    with pytest.raises(FaaSConnectionError) as caught:
        if kind == "sync":
            with FunctionsClient(
                ACCOUNT_ID, UserBearer(lambda: "t"), resolver, proxies=proxies
            ) as c:
                c.invoke(fn.GREETING, {})
        else:

            async def run():
                async with AsyncFunctionsClient(
                    ACCOUNT_ID, UserBearer(lambda: "t"), resolver, proxies=proxies
                ) as client:
                    await client.invoke(fn.GREETING, {})

            run_async(run())

    assert caught.value.kind == "connect" and not caught.value.may_have_run
    assert "did not run" in str(caught.value)
    assert calls(sandbox, "invoke") == before
    resolver.http.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_certificate_is_refused_as_tls(kind, tls_sandbox):
    domain = tls_sandbox.url.split("://")[1]
    resolver = Resolver(ACCOUNT_ID, tls_sandbox.url, overrides={"faasGW": domain})
    auth = UserBearer(lambda: "never-sent")

    with pytest.raises(FaaSConnectionError) as caught:
        if kind == "sync":
            with FunctionsClient(ACCOUNT_ID, auth, resolver) as client:
                client.invoke(fn.GREETING, {})
        else:

            async def run():
                async with AsyncFunctionsClient(ACCOUNT_ID, auth, resolver) as client:
                    await client.invoke(fn.GREETING, {})

            run_async(run())

    assert caught.value.kind == "tls"
    assert isinstance(caught.value, ConnectionError)
    assert calls(tls_sandbox, "invoke") == 0
    resolver.http.close()


@pytest.mark.parametrize("kind", KINDS)
def test_verify_trusts_the_sandbox_s_tls_certificate(kind, tls_sandbox):
    assert greet(kind, env_for(tls_sandbox.url), verify=tls_sandbox.cert) == HELLO


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_from_the_environment_is_trusted(kind, variable, tls_sandbox, monkeypatch):
    monkeypatch.setenv(variable, tls_sandbox.cert)

    assert greet(kind, env_for(tls_sandbox.url)) == HELLO
    with pytest.raises(Exception) as caught:
        greet(kind, env_for(tls_sandbox.url), trust_env=False)
    assert getattr(caught.value, "kind", None) in {"tls", "discovery"}


@pytest.mark.parametrize("kind", KINDS)
def test_verify_wins_over_the_environment(kind, tls_sandbox, monkeypatch, tmp_path):
    other_cert, _ = tls.self_signed(str(tmp_path))  # a certificate the sandbox does not use
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_cert)

    assert greet(kind, env_for(tls_sandbox.url), verify=tls_sandbox.cert) == HELLO


def test_the_web_app_ignores_the_environment(sandbox, proxy, monkeypatch, tmp_path):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    app = build_app(sandbox, "http://127.0.0.1:8000/callback", tmp_path)

    with app.app_context():
        assert app.extensions["resolver"].domain("faasGW")  # CSDS, asked directly
        pool = gateway.Clients().pool()
        answer = pool.get(f"{sandbox.url}/api/account/{ACCOUNT_ID}/service/baseURI.json")

    assert answer.status_code == 200
    assert proxy.seen == []
    assert UPSTREAM_TRUST_ENV is False  # stated in the app's configuration
    assert f"{USER_AGENT} functions-invoker" == gateway.USER_AGENT


def test_the_command_line_trusts_a_ca_bundle_from_the_environment(tls_sandbox, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sandbox.cert)
    env = {**env_for(tls_sandbox.url), "LP_INSECURE_HTTP": None, "LP_BEARER": None}

    done = CliRunner().invoke(
        faas, ["invoke", fn.GREETING, "--payload", '{"name": "Ada"}'], env=env
    )
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    refused = CliRunner().invoke(faas, ["invoke", fn.GREETING, "--json"], env=env)

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["result"] == HELLO
    assert refused.exit_code == 3
    assert json.loads(refused.stdout)["error"]["kind"] == "discovery"  # CSDS's certificate
