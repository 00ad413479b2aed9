"""The README's nginx configuration (docs/nginx.conf), run for real: Debian's nginx ends TLS in
front of two app hosts (gunicorn) on one Redis; sign-in over https against the sandbox, requests
spread over both hosts, a graceful nginx reload under load, and one host stopped."""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from sandbox import functions as demo
from sandbox.tls import self_signed
from tests.support import ROOT
from tests.support import Browser
from tests.support import calls
from tests.support import free_port
from tests.support import gunicorn_served
from tests.support import start_sandbox
from tests.support import visible_text

CONFIG = ROOT / "docs" / "nginx.conf"
COOKIE = "__Host-invoker"
LOAD_THREADS = 4
AFTER_RELOAD = 5  # requests each load thread sends once the reload has happened
PATIENCE = 20


def nginx_binary():
    """Debian's nginx; the suite fails (never skips) without it."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        pytest.fail("nginx is not installed: `make test` installs it (Debian package nginx).")
    return found


def site_config(port, hosts, cert, key):
    """docs/nginx.conf with only its addresses and certificate paths made this test's."""
    text = CONFIG.read_text()
    for old, new in (
        ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("server app1.internal:8000 ", f"server {hosts[0]} "),
        ("server app2.internal:8000 ", f"server {hosts[1]} "),
        ("/etc/ssl/invoker/fullchain.pem;", f"{cert};"),
        ("/etc/ssl/invoker/privkey.pem;", f"{key};"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground, with its pid, logs and temporary files in `folder`."""

    def __init__(self, folder, site):
        self.folder = folder
        (folder / "site.conf").write_text(site)
        # Only a master started as root switches its workers' user; keep it ours.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {name}_temp_path {folder}/{name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log notice;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {folder}/access.log;\n{temp}"
            f"    include {folder}/site.conf;\n}}\n"
        )
        self.command = [nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf")]
        self.command += ["-e", str(folder / "error.log")]
        checked = subprocess.run(self.command + ["-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(self.command, stderr=subprocess.DEVNULL)

    def log(self):
        return (self.folder / "error.log").read_text()

    def reload(self):
        os.kill(self.process.pid, signal.SIGHUP)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def wait_until(check, what):
    deadline = time.monotonic() + PATIENCE
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def answers_https(url, cert):
    try:
        requests.get(f"{url}/healthz", timeout=2, verify=cert)
    except requests.ConnectionError:
        return False
    return True


def served_by(host):
    """The users each request an app host served was for, from its own log."""
    host.log.flush()
    return re.findall(r"request client=\S+ method=\S+ path=/ status=200 .* user=(\S+)", read(host))


def read(host):
    return Path(host.log.name).read_text()


def test_the_readme_nginx_config_in_front_of_two_hosts(tmp_path, redis_url):
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    cert, key = self_signed(str(tmp_path))
    readme = (ROOT / "README.md").read_text()
    assert CONFIG.read_text().strip() in readme, "the README shows docs/nginx.conf as it is"
    sandbox = start_sandbox([f"{url}/callback"])
    env = {
        "SESSION_BACKEND": "redis",
        "REDIS_URL": redis_url,
        "SECRET_KEY": "the-same-secret-key-on-every-host",
        "LP_PROXY_HOPS": "1",
        "LP_REDIRECT_URI": f"{url}/callback",
        "WEB_CONCURRENCY": "1",
        "THREADS": "8",
    }
    with contextlib.ExitStack() as stack:
        stack.callback(sandbox.stop)
        hosts = []
        for name in ("app1", "app2"):
            (tmp_path / name).mkdir()
            hosts.append(
                stack.enter_context(gunicorn_served(tmp_path / name, sandbox=sandbox, **env))
            )
        (tmp_path / "nginx").mkdir()
        addresses = [urlsplit(h.url).netloc for h in hosts]
        nginx = Nginx(tmp_path / "nginx", site_config(port, addresses, cert, key))
        stack.callback(nginx.stop)
        wait_until(lambda: answers_https(url, cert), "nginx did not answer over https")

        # Sign in over https, through nginx, against the sandbox.
        browser = Browser()
        browser.verify = cert
        home = browser.sign_in(url)
        assert "Signed in" in home.text and home.url == f"{url}/"
        assert browser.cookies.get(COOKIE) and "invoker_session" not in browser.cookies
        assert home.headers["Strict-Transport-Security"].startswith("max-age=")
        # nginx sets the request id: the one a client sends is never the app's.
        chosen = browser.get(f"{url}/", headers={"X-Request-ID": "chosen-by-the-client-0001"})
        assert re.fullmatch(r"[0-9a-f]{32}", chosen.headers["X-Request-ID"])
        # Round-robin: one session, served by both hosts from Redis.
        for _ in range(6):
            assert "Signed in" in browser.get(f"{url}/").text
        assert served_by(hosts[0]) and served_by(hosts[1])

        # Graceful reloads of nginx and of one host while pages and invocations keep coming:
        # every one is answered, every invocation runs once. Each request on a new connection,
        # so a failure is the server's: a client that reuses a kept-alive connection nginx is
        # closing retries, as RFC 9112 (9.3.1) lets it and browsers do.
        page = browser.get(f"{url}/functions/{demo.ECHO}")
        reloaded = threading.Event()
        results = []

        def load():
            with Browser() as other:
                other.verify = cert
                other.headers["Connection"] = "close"
                other.cookies.set(COOKIE, browser.cookies.get(COOKIE), domain="127.0.0.1")
                after = 0
                while after < AFTER_RELOAD:
                    try:
                        answer = other.get(f"{url}/", timeout=PATIENCE)
                        results.append(("page", answer.status_code, "Signed in" in answer.text))
                        answer = other.form_post(
                            page,
                            {"payload": '{"under": "load"}'},
                            action=f"/functions/{demo.ECHO}",
                            headers={"Referer": page.url},
                            timeout=PATIENCE,
                        )
                        results.append(("invoke", answer.status_code, "under" in answer.text))
                    except requests.RequestException as exc:
                        results.append((repr(exc)[:300], None, False))
                    after += reloaded.is_set()

        threads = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(results) >= 2 * LOAD_THREADS, "no load before the reload")
        nginx.reload()
        os.kill(hosts[0].process.pid, signal.SIGHUP)
        wait_until(lambda: "reconfiguring" in nginx.log(), "nginx did not reload")
        wait_until(lambda: nginx.log().count("start worker process") >= 2, "no new worker")
        wait_until(lambda: read(hosts[0]).count("Booting worker") >= 2, "no new app worker")
        reloaded.set()
        for thread in threads:
            thread.join()
        failed = [r for r in results if r[1:] != (200, True)]
        assert not failed, (failed, nginx.log()[-3000:])
        invoked = sum(kind == "invoke" for kind, _, _ in results)
        assert invoked >= LOAD_THREADS * AFTER_RELOAD and calls(sandbox, "invoke") == invoked

        # One host stops: pages and invocations are still served, by the other.
        hosts[1].process.terminate()
        hosts[1].process.wait(30)
        for _ in range(4):
            assert "Signed in" in browser.get(f"{url}/").text
        done = browser.form_post(
            page,
            {"payload": '{"through": "nginx"}'},
            action=f"/functions/{demo.ECHO}",
            headers={"Referer": page.url},
        )
        assert done.status_code == 200 and "through" in visible_text(done)
        assert calls(sandbox, "invoke") == invoked + 1
