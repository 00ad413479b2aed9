"""Issue 24: nothing but a POST with a valid CSRF token invokes, saves, deletes, runs or signs
out. GET, HEAD and OPTIONS go to every route the app has, as agent and as admin, with real
values in the path, a query string that asks for everything and a form body that would send
it: the sandbox sees no invocation and the store no write, on both stores."""

import json
import os
import re
import sqlite3
import time

import pytest
import requests

from sandbox import functions as demo
from sandbox.catalogue import COMMAND_EVENT
from tests.support import Browser
from tests.support import calls
from tests.support import visible_text

COOKIE = "invoker_session"
# Everything the app writes, upstream: invocations, tokens (sign-in and refresh), revokes.
UPSTREAM = ("invoke", "invoke_event", "token", "app_token", "revoke")
AUDIT_ROW = re.compile(r"""INSERT INTO "(audit"|sqlite_sequence" VALUES\('audit')""")


def trail_types(app):
    """The audit trail's records, by type."""
    found = [record["type"] for record in app.app.extensions["audit"].records()]
    return {kind: found.count(kind) for kind in set(found)}


@pytest.fixture
def app_overrides(either_store):
    return {
        **either_store,
        "LP_APP_CLIENT_ID": "sandbox-m2m",
        "LP_APP_CLIENT_SECRET": "sandbox-m2m-secret",
    }


def setup_user(app, user):
    """Sign in as `user`; invoke, save a payload, make a suite and run it; return the values
    that fill the URL map's parameters."""
    browser = Browser()
    assert "Signed in" in browser.sign_in(app.url, user).text
    page = browser.get(f"{app.url}/functions/{demo.ECHO}")
    done = browser.form_post(page, {"payload": '{"a": 1}'}, action=f"/functions/{demo.ECHO}")
    entry_id = re.search(r"/history/([0-9a-f]{16})", done.url)[1]
    fields = {"kind": "function", "target": demo.ECHO, "payload": '{"k": 1}', "name": "kept"}
    browser.post(f"{app.url}/payloads", data={"csrf_token": browser.csrf(page), **fields})
    fields.update(name=f"shared by {user}", shared="1")
    saved = browser.post(f"{app.url}/payloads", data={"csrf_token": browser.csrf(page), **fields})
    item_id = re.search(r'href="/shared/payloads/([0-9a-f]+)"', saved.text)[1]
    listing = browser.get(f"{app.url}/environments")
    made = browser.form_post(listing, {"name": f"Env of {user}"}, action="/environments")
    env_id = re.search(r'action="/environments/([0-9a-f]+)"', made.text)[1]
    listing = browser.get(f"{app.url}/suites")
    suite = browser.form_post(listing, {"name": "Walked"}, action="/suites")
    suite_id = re.search(r"/suites/([0-9a-f]+)/edit", suite.text)[1]
    case = {"name": "echo", "function": demo.ECHO, "payload": {}}
    text = json.dumps({"name": "Walked", "cases": [case]})
    suite = browser.form_post(suite, {"suite": text}, action=f"/suites/{suite_id}/edit")
    started = browser.form_post(suite, {}, action=f"/suites/{suite_id}/run", allow_redirects=False)
    run_url = app.url + started.headers["Location"]
    deadline = time.monotonic() + 30
    while "Running:" in browser.get(run_url).text:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.05)
    values = {
        "uuid": demo.ECHO,
        "event_id": COMMAND_EVENT,
        "entry_id": entry_id,
        "suite_id": suite_id,
        "run_id": run_url.rsplit("/", 1)[1],
        "item_id": item_id,
        "env_id": env_id,
        "filename": "style.css",
    }
    return browser, values


def query(values):
    """A query string asking every GET page for all it can do: prefill, open, confirm, add."""
    return {
        "skill_id": "1001",
        "from": values["entry_id"],
        "saved": "kept",
        "kind": "function",
        "target": demo.ECHO,
        "name": "kept",
        "open": demo.ECHO,
        "event_id": COMMAND_EVENT,
        "next": "/",
    }


def body(values):
    """A form body that would invoke, save, delete, run or sign out, were it a POST."""
    case = {"name": "sneaked", "function": demo.ECHO, "payload": {}}
    return {
        "payload": '{"sneaked": true}',
        "invoke_as": "user",
        "skill_id": "1001",
        "kind": "function",
        "target": demo.ECHO,
        "name": "sneaked",
        "replace": "yes",
        "case": json.dumps(case),
        "new_suite": "Sneaked",
        "suite_id": values["suite_id"],
        "suite": json.dumps({"name": "Sneaked", "cases": [case]}),
        "shared": "1",
        "version": "1",
        "var_name": "sneaked",
        "var_value": "1",
        "environment": values["env_id"],
    }


def paths(flask_app, values):
    """Every route of the app, its parameters filled with real values."""
    found = set()
    for rule in flask_app.url_map.iter_rules():
        built = rule.build({name: values.get(name, "unknown") for name in rule.arguments})
        assert built is not None, rule.rule
        found.add(built[1])
    return sorted(found)


def store_contents(app, skipped_sessions):
    """Everything the store and the user data hold, but the walking browsers' own sessions
    (they may note a sign-in started or a message shown), short-lived locks and the audit
    trail (a log: trail_types says what it gained)."""
    extensions = app.app.extensions
    skipped = {f"session:{sid}" for sid in skipped_sessions}
    client = getattr(extensions["store"], "client", None)
    if client is not None:
        return {
            key: client.dump(key)
            for key in client.keys("*")
            if key.decode() not in skipped and not key.startswith((b"lock:", b"audit:"))
        }
    contents = {}
    cache = extensions["store"].cache
    skipped_files = {os.path.basename(cache._get_filename(key)) for key in skipped}
    for folder, _, files in os.walk(app.app.instance_path):
        for name in files:
            path = os.path.join(folder, name)
            if name in skipped_files or name.endswith(("-wal", "-shm")) or "locks" in folder:
                continue
            if name.endswith(".sqlite3"):
                with sqlite3.connect(path) as db:
                    lines = (line for line in db.iterdump() if not AUDIT_ROW.match(line))
                    contents[path] = "\n".join(lines)
            else:
                with open(path, "rb") as file:
                    contents[path] = file.read()
    return contents


def test_get_head_and_options_never_invoke_write_or_sign_out(app, sandbox):
    walkers = [setup_user(app, "agent"), setup_user(app, "admin")]
    # Each walks the other's shared payload too.
    walkers[0][1]["item_id"], walkers[1][1]["item_id"] = (
        walkers[1][1]["item_id"],
        walkers[0][1]["item_id"],
    )
    before = {name: calls(sandbox, name) for name in UPSTREAM}
    sids = [browser.cookies.get(COOKIE) for browser, _ in walkers]
    stored, logged = store_contents(app, sids), trail_types(app)
    walked = 0
    for browser, values in walkers:
        for path in paths(app.app, values):
            for params in (None, query(values)):
                for method in ("GET", "HEAD", "OPTIONS"):
                    answer = browser.request(
                        method,
                        app.url + path,
                        params=params,
                        data=body(values),
                        allow_redirects=False,
                        timeout=10,
                    )
                    assert answer.status_code < 500, (method, path, answer.status_code)
                    walked += 1
    assert walked >= 2 * 2 * 3 * 20
    assert {name: calls(sandbox, name) for name in UPSTREAM} == before
    assert store_contents(app, sids) == stored
    # The trail records the agent's refused looks at admins' pages, and nothing else.
    grown = trail_types(app)
    assert grown.pop("refused", 0) > logged.pop("refused", 0)
    assert grown == logged
    for browser, _ in walkers:
        assert "Signed in" in visible_text(browser.get(f"{app.url}/"))


def test_a_head_with_a_form_body_is_never_a_send(app, sandbox):
    """The scanner's find: HEAD /events/<id>?skill_id=… ran the event; a HEAD with a body
    reached the POST branch of a GET-and-POST view."""
    browser, values = setup_user(app, "agent")
    invoked = calls(sandbox, "invoke") + calls(sandbox, "invoke_event")
    for path in (
        f"/events/{COMMAND_EVENT}?skill_id=1001",
        f"/functions/{demo.ECHO}",
        f"/suites/add?from={values['entry_id']}",
    ):
        answer = browser.head(app.url + path, data=body(values), allow_redirects=False)
        assert answer.status_code == 200, path
    assert calls(sandbox, "invoke") + calls(sandbox, "invoke_event") == invoked
    suite = browser.get(f"{app.url}/suites/{values['suite_id']}")
    assert "sneaked" not in suite.text and "Sneaked" not in browser.get(f"{app.url}/suites").text
    assert requests.head(f"{app.url}/healthz", timeout=5).status_code == 200
