"""Headers on every response, error pages with a correlation id, and a clear CSDS outage."""

import pytest

from sandbox import ACCOUNT_ID
from tests.support import Browser
from tests.support import Served
from tests.support import build_app
from tests.support import visible_text

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/login", 302),
        ("GET", "/no/such/page", 404),
        ("PUT", "/", 405),
        ("POST", "/logout", 400),
        ("GET", "/callback?state=x&code=y", 400),
        ("GET", "/static/style.css", 200),
    ],
)
def test_security_headers_on_every_response(app, method, path, status):
    response = Browser().request(method, f"{app.url}{path}", allow_redirects=False)
    assert response.status_code == status
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_signed_in_pages_are_not_cached(app, browser):
    page = browser.sign_in(app.url)
    assert page.headers["Cache-Control"] == "no-store"
    # The static files are the same for everyone: the browser may keep them (htmx is 50 KB).
    for name in ("htmx-2.0.11.min.js", "console.js", "style.css"):
        static = browser.get(f"{app.url}/static/{name}")
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_not_found_page_is_in_the_site_style(app):
    response = Browser().get(f"{app.url}/nothing-here")
    text = visible_text(response)
    assert "Not found" in text and "reference" in text
    assert response.headers["X-Request-ID"] in text
    assert "Traceback" not in response.text


def test_csds_down_gives_a_clear_503(served_app, sandbox, tmp_path):
    closed = Served()
    closed.stop()
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    flask_app.config["LP_CSDS_URL"] = closed.url
    flask_app.extensions["resolver"].csds_url = closed.url
    served_app.start(flask_app)
    response = Browser().get(f"{served_app.url}/login", allow_redirects=False)
    assert response.status_code == 503
    text = visible_text(response)
    assert "could not be reached" in text and "LP_CSDS_URL" in text
    assert "Traceback" not in response.text


def test_csds_without_sentinel_names_the_missing_service(served_app, sandbox, tmp_path):
    settings = sandbox.app.extensions["sandbox"].settings
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    served_app.start(flask_app)
    settings.service_domains["sentinel"] = ""
    response = Browser().get(f"{served_app.url}/login", allow_redirects=False)
    assert response.status_code == 503
    assert "lists no 'sentinel' host" in visible_text(response)


def test_health_and_readiness(app):
    assert Browser().get(f"{app.url}/healthz").json() == {"status": "ok"}
    ready = Browser().get(f"{app.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "store": "ok", "discovery": "ok"}
    assert ACCOUNT_ID not in ready.text and "localhost" not in ready.text


def test_readiness_fails_when_discovery_fails(served_app, sandbox, tmp_path):
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    flask_app.extensions["resolver"].csds_url = "http://127.0.0.1:9"
    served_app.start(flask_app)
    ready = Browser().get(f"{served_app.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["discovery"] == "failing"
    assert Browser().get(f"{served_app.url}/healthz").status_code == 200


class TestProxyAndHosts:
    @pytest.fixture
    def app_overrides(self):
        return {"TRUSTED_HOSTS": "127.0.0.1", "LP_PROXY_HOPS": "1"}

    def test_untrusted_host_is_refused(self, app):
        response = Browser().get(f"{app.url}/login", headers={"Host": "evil.test"})
        assert response.status_code == 400
        assert response.headers["Content-Security-Policy"]

    def test_https_behind_the_proxy_gets_hsts(self, app):
        response = Browser().get(f"{app.url}/", headers={"X-Forwarded-Proto": "https"})
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_headers_are_ignored_without_proxy_hops(app):
    response = Browser().get(f"{app.url}/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_only_a_trusted_proxy_chooses_the_request_id(sandbox, tmp_path):
    """Issue 24: a client must not choose the id the logs are searched by."""
    chosen = {"X-Request-ID": "chosen-by-the-client-0001"}
    own = "http://127.0.0.1:8000"
    direct = build_app(sandbox, f"{own}/callback", tmp_path / "direct").test_client()
    made = direct.get("/healthz", headers=chosen, base_url=own).headers["X-Request-ID"]
    assert made != chosen["X-Request-ID"] and len(made) == 32
    proxied = build_app(sandbox, f"{own}/callback", tmp_path / "proxied", LP_PROXY_HOPS="1")
    answer = proxied.test_client().get("/healthz", headers=chosen, base_url=own)
    assert answer.headers["X-Request-ID"] == chosen["X-Request-ID"]
