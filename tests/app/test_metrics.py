"""/metrics: counts from every gunicorn worker, and only for allowed scrapers."""

import os
import re
import signal
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app import ConfigError
from sandbox import functions as demo
from tests.support import Browser
from tests.support import answers
from tests.support import build_app
from tests.support import gunicorn_served

TOKEN = "scrape-token-0123456789"


def samples(text):
    """Return {(name, frozenset(labels)): value} for a scrape."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped, name, **labels):
    return scraped.get((name, frozenset(labels.items())), 0)


def booted(log):
    log.flush()
    log.seek(0)
    return re.findall(r"Booting worker with pid: (\d+)", log.read())


@pytest.fixture
def gunicorn_app(tmp_path):
    """gunicorn with two workers in sandbox mode; metrics in a folder the test can see."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    # Left by an "earlier run": start-up must clear it, or the scrape would fail or add it in.
    (metrics_dir / "counter_1.db").write_bytes(b"not a metrics file")
    with gunicorn_served(
        tmp_path,
        ready=lambda url, log: len(booted(log)) >= 2 and answers(url),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    ) as served:
        yield served.url, served.process, served.log


def invoke(browser, url, uuid, times):
    page = browser.get(f"{url}/functions/{uuid}")
    for _ in range(times):
        answer = browser.form_post(page, {"payload": "{}"}, action=f"/functions/{uuid}")
        assert answer.status_code == 200


def test_counts_add_up_over_workers_and_restarts(gunicorn_app):
    url, process, log = gunicorn_app
    browser = Browser()
    # A new connection per request, so the kernel spreads requests over both workers.
    browser.headers["Connection"] = "close"
    browser.sign_in(url)
    invoke(browser, url, demo.GREETING, 3)
    invoke(browser, url, demo.FAILING, 2)
    # Replace both workers: what they counted must stay in the totals.
    for pid in booted(log):
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 30
    while len(booted(log)) < 4 or not answers(url):
        assert time.monotonic() < deadline, "the workers were not replaced"
        time.sleep(0.1)
    invoke(browser, url, demo.GREETING, 2)

    scrape = requests.get(f"{url}/metrics", timeout=5)
    assert scrape.status_code == 200
    assert scrape.headers["Content-Type"].startswith("text/plain; version=")
    scraped = samples(scrape.text)
    invocations = "functions_invoker_invocations_total"
    assert (
        value(scraped, invocations, operation="invoke", outcome="success", status_class="2xx") == 5
    )
    assert (
        value(
            scraped, invocations, operation="invoke", outcome="function-error", status_class="9xx"
        )
        == 2
    )
    assert value(scraped, "functions_invoker_gateway_seconds_count", operation="invoke") == 7
    assert value(scraped, "functions_invoker_sign_ins_total", result="ok") == 1
    assert value(scraped, "functions_invoker_circuit_breaker_state", dependency="faasGW") == 0
    # Bounded labels only: no user, no function name or UUID, no token.
    assert "4000001" not in scrape.text and demo.GREETING not in scrape.text
    assert "Greeting" not in scrape.text and "Bearer" not in scrape.text


@pytest.fixture
def app_overrides():
    return {"METRICS_ALLOW": "10.0.0.0/8", "METRICS_TOKEN": TOKEN}


def test_only_allowed_addresses_or_the_bearer_may_scrape(app):
    # The test client is on loopback, which this app's METRICS_ALLOW leaves out.
    assert requests.get(f"{app.url}/metrics", timeout=5).status_code == 403
    wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "x"}
    assert requests.get(f"{app.url}/metrics", headers=wrong, timeout=5).status_code == 403
    right = requests.get(
        f"{app.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert right.status_code == 200
    assert "functions_invoker_invocations_total" in right.text
    assert "Set-Cookie" not in right.headers


def test_loopback_may_scrape_by_default(sandbox, served_app, tmp_path):
    flask_app = build_app(sandbox, f"{served_app.url}/callback", tmp_path)
    served_app.start(flask_app)
    assert requests.get(f"{served_app.url}/metrics", timeout=5).status_code == 200
    # Through a proxy the app does not know of (LP_PROXY_HOPS unset), loopback proves nothing.
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert requests.get(f"{served_app.url}/metrics", headers=proxied, timeout=5).status_code == 403


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"METRICS_ALLOW": "localhost"}, "METRICS_ALLOW has a bad entry"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN is too short"),
        ({"METRICS_FUNCTION_LABELS": "maybe"}, "METRICS_FUNCTION_LABELS must be 1 or 0"),
    ],
)
def test_bad_metrics_settings_stop_start_up(sandbox, tmp_path, setting, message):
    with pytest.raises(ConfigError, match=message):
        build_app(sandbox, "http://127.0.0.1:8000/callback", tmp_path, **setting)


def test_function_uuids_are_labels_only_when_allowed(sandbox, served_app, tmp_path):
    flask_app = build_app(
        sandbox, f"{served_app.url}/callback", tmp_path, METRICS_FUNCTION_LABELS="1"
    )
    served_app.start(flask_app)
    name = "functions_invoker_function_invocations_total"

    def counted():
        scraped = samples(requests.get(f"{served_app.url}/metrics", timeout=5).text)
        return value(scraped, name, function=demo.GREETING, outcome="success")

    before = counted()
    browser = Browser()
    browser.sign_in(served_app.url)
    invoke(browser, served_app.url, demo.GREETING, 1)
    assert counted() == before + 1
