"""Every secret setting, given a marker value, appears in no page, header or log line.

The app runs as deployed (gunicorn, Redis behind a password) against the sandbox, which is
told the same client secrets; an admin visits every page there is, invokes as themself and as
the app, tries the self-check, scrapes /metrics and signs out everywhere.
"""

import dataclasses

import pytest

from app.config import SECRET
from app.config import SETTINGS
from app.config import URL
from sandbox import ACCOUNT_ID
from sandbox import functions as demo
from tests.support import Browser
from tests.support import RedisServer
from tests.support import gunicorn_served
from tests.support import invoke

MARKERS = {
    "LP_CLIENT_SECRET": "marker-client-secret-7f3a9c",
    "LP_APP_CLIENT_SECRET": "marker-app-secret-91bc4e",
    "SECRET_KEY": "marker-secret-key-55d1e8a0b7c6",
    "METRICS_TOKEN": "marker-metrics-token-0c2e9f",
}
REDIS_PASSWORD = "marker-redis-password-3e8b"
# Pages with nothing to fill in, and those that take a parameter, as an admin opens them.
PAGES = [
    "/",
    "/functions",
    f"/functions/{demo.GREETING}",
    "/events",
    "/events/conversational_command",
    "/history",
    "/history/export",
    "/payloads",
    "/payloads/export",
    "/suites",
    "/suites/export",
    "/flow",
    "/admin/check",
    "/readyz",
    "/healthz",
    "/no-such-page",
]


def test_every_secret_setting_is_declared_with_its_kind():
    secrets = {name for name, kind in SETTINGS.items() if kind == SECRET}
    assert secrets == set(MARKERS)
    assert "REDIS_URL" in {name for name, kind in SETTINGS.items() if kind == URL}


def with_secret(directory, client_id, secret):
    directory.clients[client_id] = dataclasses.replace(
        directory.clients[client_id], client_secret=secret
    )


@pytest.fixture
def deployed(tmp_path):
    redis = RedisServer(password=REDIS_PASSWORD)
    env = {
        "LP_ACCOUNT_ID": ACCOUNT_ID,
        "LP_CLIENT_ID": "functions-invoker",
        "LP_APP_CLIENT_ID": "sandbox-m2m",
        "SESSION_BACKEND": "redis",
        "REDIS_URL": redis.url,
        "LOG_LEVEL": "DEBUG",
        **MARKERS,
    }
    try:
        with gunicorn_served(tmp_path, **env) as served:
            directory = served.sandbox.app.extensions["sandbox"].directory
            with_secret(directory, "functions-invoker", MARKERS["LP_CLIENT_SECRET"])
            with_secret(directory, "sandbox-m2m", MARKERS["LP_APP_CLIENT_SECRET"])
            yield served
    finally:
        redis.stop()


def test_no_secret_value_reaches_a_page_or_a_log_line(deployed):
    url, seen = deployed.url, []

    def keep(response):
        for answer in [*response.history, response]:
            seen.append(f"{answer.url}\n{answer.headers}\n{answer.text}")
        return response

    with Browser() as admin:
        page = keep(admin.sign_in(url, user="admin"))
        assert "Signed in" in page.text, page.text[:500]
        for path in PAGES:
            keep(admin.get(f"{url}{path}"))
        mine = keep(invoke(admin, deployed, demo.GREETING, '{"name": "Ana"}'))
        assert "Hello, Ana" in mine.text
        as_app = keep(invoke(admin, deployed, demo.GREETING, '{"name": "Bo"}', invoke_as="app"))
        assert "Hello, Bo" in as_app.text
        check = keep(admin.get(f"{url}/admin/check"))
        keep(admin.form_post(check, {}, action="/admin/check"))
        keep(admin.get(f"{url}/metrics"))
        keep(admin.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong-token-123456"}))
        scraped = keep(
            admin.get(
                f"{url}/metrics", headers={"Authorization": f"Bearer {MARKERS['METRICS_TOKEN']}"}
            )
        )
        assert scraped.status_code == 200
        confirm = keep(admin.get(f"{url}/logout/everywhere"))
        keep(admin.form_post(confirm, {}, action="/logout/everywhere"))
    deployed.log.flush()
    deployed.log.seek(0)
    lines = deployed.log.read().splitlines()
    assert any(" request client=" in line for line in lines)
    assert any(" upstream op=invoke " in line for line in lines)
    for name, value in {**MARKERS, "REDIS_URL": REDIS_PASSWORD}.items():
        leaks = [text[:200] for text in seen + lines if value in text]
        assert not leaks, (name, leaks)
