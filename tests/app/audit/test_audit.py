"""The audit trail through HTTP against the sandbox, on both stores: who sees what, exports."""

import csv
import hashlib
import io
import json
import re
import sqlite3

import pytest
import redis
import requests

from sandbox import functions as demo
from tests.app.suites.test_suites import create
from tests.app.suites.test_suites import run
from tests.support import Browser
from tests.support import Served
from tests.support import build_app
from tests.support import invoke
from tests.support import sandbox_log
from tests.support import start_sandbox
from tests.support import visible_text

PAYLOAD = '{"name": "Ana"}'


@pytest.fixture
def app_overrides(either_store):
    if either_store:
        redis.Redis.from_url(either_store["REDIS_URL"]).flushdb()  # one Redis for the session
    return either_store


def browser_for(app, user):
    browser = Browser()
    browser.sign_in(app.url, user)
    return browser


def trail(browser, app, **filters):
    return browser.get(f"{app.url}/audit", params=filters)


def export(browser, app, kind, **filters):
    response = browser.get(f"{app.url}/audit/export.{kind}", params=filters)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    if kind == "json":
        return response.json()
    return list(csv.DictReader(io.StringIO(response.text)))


def failures(app):
    """The audit_write_failures_total counter as /metrics shows it."""
    text = requests.get(f"{app.url}/metrics", timeout=5).text
    found = re.search(r"^functions_invoker_audit_write_failures_total (\S+)$", text, re.M)
    return float(found[1])


def test_admins_see_every_users_invocations_and_sign_ins(app, sandbox):
    agent, developer = browser_for(app, "agent"), browser_for(app, "developer")
    invoke(agent, app, demo.GREETING, PAYLOAD)
    invoke(developer, app, demo.FAILING, '{"orderId": "7"}')
    agent_request, developer_request = (
        s["headers"]["X-Request-ID"] for s in sandbox_log(sandbox, "invoke")
    )
    admin = browser_for(app, "admin")
    page = trail(admin, app)
    assert page.status_code == 200
    text = visible_text(page)
    # Newest first: the admin's sign-in, the developer's run, the agent's run, the sign-ins.
    assert (
        text.index("admin user id 4000002 signed in")
        < text.index(developer_request)
        < text.index(agent_request)
    )
    assert text.index(agent_request) < text.index("agent user id 4000001 signed in")
    assert "user id 4000001" in text and "user id 4000004" in text
    assert "Greeting" in text and "by UUID" in text and "the user" in text
    assert "function failed 901" in text
    # The payload itself is not kept: its size and SHA-256 are.
    digest = hashlib.sha256(PAYLOAD.encode()).hexdigest()
    assert digest[:12] in text and f"payload {len(PAYLOAD)} B" in text
    assert "Ana" not in page.text
    assert 'href="/audit"' in page.text  # the admin's header links here
    # Nobody changes or deletes a record from the app: there is no such request.
    kept = len(export(admin, app, "json")["records"])
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert admin.request(method, f"{app.url}/audit").status_code in (400, 405)
    assert len(export(admin, app, "json")["records"]) == kept


def test_agents_get_a_403_that_says_so_and_the_refusal_is_recorded(app):
    agent = browser_for(app, "agent")
    for path in ("/audit", "/audit/export.csv", "/audit/export.json", "/admin/check"):
        refused = agent.get(f"{app.url}{path}")
        assert refused.status_code == 403
    assert "for LivePerson administrators of this account only" in visible_text(
        refused := agent.get(f"{app.url}/audit")
    )
    assert 'href="/audit"' not in refused.text
    text = visible_text(trail(browser_for(app, "admin"), app, user="agent"))
    assert "agent user id 4000001 was refused: the audit trail" in text
    assert "was refused: the configuration check" in text


def test_sign_outs_and_invoking_as_the_app_refused_are_recorded(app):
    agent = browser_for(app, "agent")
    page = agent.get(f"{app.url}/functions/{demo.ECHO}")
    refused = agent.form_post(page, {"invoke_as": "app"}, action=f"/functions/{demo.ECHO}")
    assert refused.status_code == 403
    agent.form_post(agent.get(f"{app.url}/"), {}, action="/logout")
    developer = browser_for(app, "developer")
    confirm = developer.get(f"{app.url}/logout/everywhere")
    developer.form_post(confirm, {}, action="/logout/everywhere")
    records = export(browser_for(app, "admin"), app, "json")["records"]
    seen = [(r["login"], r["type"], r.get("detail")) for r in records]
    assert ("agent", "refused", "invoking as the app") in seen
    assert ("agent", "sign-out", "") in seen
    assert ("developer", "sign-out-everywhere", "") in seen


def test_filters_and_exports_select_the_same_records(app, sandbox):
    agent, admin = browser_for(app, "agent"), browser_for(app, "admin")
    invoke(agent, app, demo.GREETING, PAYLOAD)
    invoke(agent, app, demo.ECHO, "{}")
    invoke(admin, app, demo.GREETING, '{"name": "Bo"}')
    mine = {"user": "agent", "what": "greeting", "outcome": "success"}
    text = visible_text(trail(admin, app, **mine))
    assert text.count("by UUID") == 1 and "Echo" not in text
    as_csv, as_json = export(admin, app, "csv", **mine), export(admin, app, "json", **mine)
    assert as_json["filters"]["user"] == "agent" and as_json["account"] == "12345678"
    assert [r["id"] for r in as_csv] == [r["id"] for r in as_json["records"]]
    (row,) = as_csv
    (sent,) = [
        s for s in sandbox_log(sandbox, "invoke") if s["body"]["payload"] == {"name": "Ana"}
    ]
    assert row["request_id"] == sent["headers"]["X-Request-ID"]
    assert (row["login"], row["user_id"], row["by"], row["target"]) == (
        "agent",
        "4000001",
        "uuid",
        demo.GREETING,
    )
    assert (row["token"], row["outcome"], row["status"]) == ("user", "success", "200")
    assert row["payload_sha256"] == hashlib.sha256(PAYLOAD.encode()).hexdigest()
    assert row["payload"] == "" and "Ana" not in json.dumps(as_json)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["at"])
    # The time range: nothing before 2000, everything since then.
    assert "No record matches" in visible_text(trail(admin, app, until="2000-01-01"))
    assert len(export(admin, app, "json", since="2000-01-01T00:00")["records"]) == len(
        export(admin, app, "json")["records"]
    )
    bad = visible_text(trail(admin, app, since="yesterday"))
    assert "From: write a UTC date such as 2026-12-07" in bad


def test_the_trail_is_paged_newest_first(app, monkeypatch):
    from app.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    admin = browser_for(app, "admin")
    for _ in range(2):
        browser_for(app, "agent")
    first = trail(admin, app)
    assert "Records 1–2" in visible_text(first) and "Older →" in first.text
    older = trail(admin, app, page=2)
    assert "Records 3–3" in visible_text(older) and "← Newer" in older.text
    assert "Older →" not in older.text


def test_suite_runs_are_recorded_like_console_invocations(app):
    agent = browser_for(app, "agent")
    cases = [{"name": "hi", "function": demo.GREETING, "payload": {}}]
    cases.append({"name": "fails", "function": demo.FAILING, "payload": {}})
    run(agent, create(agent, app, "Audited", cases))
    rows = export(browser_for(app, "admin"), app, "json", type="invocation")["records"]
    seen = [(r["login"], r["suite"], r["target"], r["outcome"]) for r in rows]
    assert seen == [
        ("agent", "Audited", demo.FAILING, "function-error"),
        ("agent", "Audited", demo.GREETING, "success"),
    ]
    assert all(r["request_id"] for r in rows)


def test_a_store_failure_writing_the_record_keeps_the_users_result(app, either_store, tmp_path):
    agent = browser_for(app, "agent")
    if either_store:
        redis.Redis.from_url(either_store["REDIS_URL"]).set("audit:12345678", "broken")
    else:
        with sqlite3.connect(tmp_path / "userdata.sqlite3") as db:
            db.execute("DROP TABLE audit")
    before = failures(app)
    page = invoke(agent, app, demo.GREETING, PAYLOAD)
    assert page.status_code == 200 and "Hello, Ana!" in visible_text(page)
    assert "Greeting" in visible_text(agent.get(f"{app.url}/history"))
    assert failures(app) == before + 1
    assert requests.get(f"{app.url}/readyz", timeout=5).status_code == 200


def test_another_account_sees_nothing(app, sandbox, either_store, tmp_path):
    invoke(browser_for(app, "agent"), app, demo.GREETING, PAYLOAD)
    # Another account's app on the same store (the same files or the same Redis).
    other = Served("127.0.0.1")
    their_sandbox = start_sandbox([f"{other.url}/callback"], account_id="87654321")
    settings = {**either_store, "LP_ACCOUNT_ID": "87654321"}
    other.start(build_app(their_sandbox, f"{other.url}/callback", tmp_path, **settings))
    try:
        theirs = export(browser_for(other, "admin"), other, "json")
        assert [(r["login"], r["type"]) for r in theirs["records"]] == [("admin", "sign-in")]
        assert {r["account"] for r in theirs["records"]} == {"87654321"}
        assert "agent" not in visible_text(trail(browser_for(other, "admin"), other))
    finally:
        other.stop()
        their_sandbox.stop()
    ours = export(browser_for(app, "admin"), app, "json")["records"]
    assert {r["account"] for r in ours} == {"12345678"}
