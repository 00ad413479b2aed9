"""Two app instances sharing one real redis-server write one audit trail, and keep payloads
when AUDIT_PAYLOADS=1."""

import hashlib

import pytest
import redis

from sandbox import functions as demo
from tests.app.workspace.test_environments import SECRET
from tests.app.workspace.test_environments import create_environment
from tests.support import Browser
from tests.support import Served
from tests.support import build_app
from tests.support import invoke
from tests.support import start_sandbox


@pytest.fixture
def hosts(tmp_path, redis_url):
    """Two hosts of one deployment (their own instance folders), on one Redis and sandbox."""
    redis.Redis.from_url(redis_url).flushdb()  # one Redis for the session
    served = [Served("127.0.0.1"), Served("127.0.0.1")]
    sandbox = start_sandbox([f"{s.url}/callback" for s in served])
    settings = {"SESSION_BACKEND": "redis", "REDIS_URL": redis_url, "AUDIT_PAYLOADS": "1"}
    for number, host in enumerate(served):
        host.start(
            build_app(sandbox, f"{host.url}/callback", tmp_path / f"host{number}", **settings)
        )
    yield served
    for host in served:
        host.stop()
    sandbox.stop()


def browser_for(host, user):
    browser = Browser()
    browser.sign_in(host.url, user)
    return browser


def test_records_from_both_hosts_are_in_one_trail(hosts):
    first, second = hosts
    invoke(browser_for(first, "agent"), first, demo.GREETING, '{"name": "Ana"}')
    invoke(browser_for(second, "developer"), second, demo.ECHO, '{"from": "host two"}')
    for host in hosts:
        records = browser_for(host, "admin").get(f"{host.url}/audit/export.json").json()["records"]
        runs = [(r["login"], r["target"]) for r in records if r["type"] == "invocation"]
        assert runs == [("developer", demo.ECHO), ("agent", demo.GREETING)]
        # AUDIT_PAYLOADS=1: the payload is kept too, beside its size and SHA-256.
        assert [r["payload"] for r in records if r["type"] == "invocation"] == [
            '{"from": "host two"}',
            '{"name": "Ana"}',
        ]


def test_a_kept_payload_is_what_was_sent_with_secrets_masked(hosts):
    host = hosts[0]
    agent = browser_for(host, "agent")
    env_id = create_environment(agent, host, variables=[("apiKey", SECRET, True)])
    page = agent.get(f"{host.url}/functions/{demo.ECHO}")
    typed = '{"key": "{{apiKey}}"}'
    data = {"payload": typed, "environment": env_id}
    agent.form_post(page, data, action=f"/functions/{demo.ECHO}")
    export = browser_for(host, "admin").get(f"{host.url}/audit/export.json")
    assert SECRET not in export.text
    (row,) = [r for r in export.json()["records"] if r["type"] == "invocation"]
    assert row["payload"] == '{"key": "••••"}'
    assert row["payload_sha256"] == hashlib.sha256(row["payload"].encode()).hexdigest()
