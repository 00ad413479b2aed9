"""Payloads and suites shared with the account: who sees them, who may change them, versions."""

import json
import re

import pytest

from app.workspace.signals import shared_changed
from sandbox import ACCOUNT_ID
from sandbox import functions as demo
from tests.app.suites.test_suites import run
from tests.support import Browser
from tests.support import calls
from tests.support import visible_text

PAGE = f"/functions/{demo.ECHO}"


def share_payload(browser, app, name="team order", payload='{"order": 1}'):
    """Save a payload from the invoke page with "Share with the account" ticked."""
    done = save_payload(browser, app, name, payload, shared="1")
    assert f"Saved the payload as “{name}”, shared with the account." in done.text
    return re.search(r'href="/shared/payloads/([0-9a-f]+)"', done.text).group(1)


def save_payload(browser, app, name, payload, **fields):
    """Press "Save payload" on the invoke page (its button posts the form to /payloads)."""
    page = browser.get(f"{app.url}{PAGE}")
    data = {"csrf_token": browser.csrf(page), "kind": "function", "target": demo.ECHO}
    data.update(name=name, payload=payload, **fields)
    return browser.post(f"{app.url}/payloads", data=data)


@pytest.fixture
def changes(app):
    """Every shared_changed signal the app sends during the test."""
    seen = []

    def listen(sender, **info):
        seen.append(info)

    shared_changed.connect(listen, sender=app.app)
    yield seen
    shared_changed.disconnect(listen, sender=app.app)


def test_the_account_sees_a_shared_payload_and_another_account_nothing(
    app, agent, developer, outsider, other, changes
):
    item = share_payload(agent, app)

    listing = visible_text(developer.get(f"{app.url}/payloads"))
    assert "Shared with the account" in listing
    assert f"team order function {demo.ECHO} agent" in listing  # with its owner and when
    invoke_page = developer.get(f"{app.url}{PAGE}")
    assert f"?shared={item}" in invoke_page.text
    used = developer.get(f"{app.url}{PAGE}?shared={item}")
    assert "{&#34;order&#34;: 1}" in used.text or '{"order": 1}' in used.text
    assert "team order" not in outsider.get(f"{other.url}/payloads").text
    assert outsider.get(f"{other.url}/shared/payloads/{item}").status_code == 404
    assert [(c["action"], c["kind"], c["by_name"], c["account"]) for c in changes] == [
        ("share", "payload", "agent", ACCOUNT_ID)
    ]
    assert changes[0]["item_id"] == item and changes[0]["name"] == "team order"


def test_a_user_who_may_not_read_functions_sees_nothing_shared(app, agent):
    item = share_payload(agent, app)
    from tests.app.workspace.conftest import signed_in

    with signed_in(app, "viewer") as viewer:
        listing = viewer.get(f"{app.url}/payloads")
        assert "team order" not in listing.text
        assert "LivePerson does not let you read them" in visible_text(listing)
        assert viewer.get(f"{app.url}/shared/payloads/{item}").status_code == 404


def test_only_the_owner_and_admins_change_a_shared_payload_others_copy(
    app, agent, developer, admin, changes
):
    item = share_payload(agent, app)
    page = developer.get(f"{app.url}/shared/payloads/{item}")
    assert "Only agent and the account's administrators may change" in visible_text(page)
    token = developer.csrf(page)
    url = f"{app.url}/shared/payloads/{item}"

    for path, data in [
        ("", {"name": "mine now", "payload": "{}", "version": "1", "shared": "1"}),
        ("", {"name": "team order", "payload": "{}", "version": "1"}),  # unshare
        ("/delete", {}),
    ]:
        refused = developer.post(url + path, data={"csrf_token": token, **data})
        assert refused.status_code == 403
        assert "Only agent" in visible_text(refused) and "Nothing was changed" in refused.text

    copied = developer.post(f"{url}/copy", data={"csrf_token": token})
    assert "Copied to your saved payloads as “team order”" in copied.text
    assert "team order" in developer.get(f"{app.url}/payloads").text
    edit = admin.get(url)
    saved = admin.form_post(
        edit,
        {"name": "team order v2", "payload": '{"order": 2}', "shared": "1"},
        action=f"/shared/payloads/{item}",
    )
    assert "Saved “team order v2”" in saved.text
    assert "version 2" in visible_text(agent.get(url))
    deleted = agent.post(f"{url}/delete", data={"csrf_token": agent.csrf(agent.get(url))})
    assert "Deleted the shared payload" in deleted.text
    assert developer.get(url).status_code == 404
    assert [c["action"] for c in changes] == ["share", "rename", "edit", "delete"]
    assert changes[1]["by_name"] == "admin" and changes[1]["owner_name"] == "agent"


def test_the_second_save_is_refused_showing_the_others_version(app, agent, admin):
    item = share_payload(agent, app)
    url = f"/shared/payloads/{item}"
    mine, theirs = agent.get(app.url + url), admin.get(app.url + url)

    # The "Share with the account" box is ticked, as the page shows it.
    kept = {"name": "team order", "shared": "1"}
    first = admin.form_post(theirs, {**kept, "payload": '{"by": "admin"}'}, action=url)
    second = agent.form_post(mine, {**kept, "payload": '{"by": "agent"}'}, action=url)

    assert first.status_code == 200
    assert second.status_code == 409
    text = visible_text(second)
    assert "admin saved version 2" in text and '{"by": "admin"}' in text
    assert '{"by": "agent"}' in text  # what was typed is shown, not lost
    assert '{"by": "admin"}' in visible_text(agent.get(app.url + url))


def test_unsharing_gives_the_payload_back_to_its_owner(app, agent, developer, changes):
    item = share_payload(agent, app)
    url = f"/shared/payloads/{item}"
    page = agent.get(app.url + url)
    data = {"csrf_token": agent.csrf(page), "name": "team order", "payload": '{"order": 1}'}

    done = agent.post(app.url + url, data={**data, "version": "1"})

    assert "no longer shared" in done.text
    assert "team order" in agent.get(f"{app.url}/payloads").text
    assert "team order" not in developer.get(f"{app.url}/payloads").text
    assert [c["action"] for c in changes] == ["share", "unshare"]


def test_shared_item_changes_are_in_the_admins_audit_trail(app, agent, admin, other):
    item = share_payload(agent, app)
    url = f"/shared/payloads/{item}"
    page = agent.get(app.url + url)
    data = {"csrf_token": agent.csrf(page), "name": "team order", "payload": '{"order": 1}'}
    agent.post(app.url + url, data={**data, "version": "1"})  # unshared

    trail = visible_text(admin.get(f"{app.url}/audit", params={"type": "shared-item"}))
    assert "share payload “team order” (version 1)" in trail
    assert "unshare payload “team order”" in trail and "agent" in trail
    exported = admin.get(f"{app.url}/audit/export.json", params={"type": "shared-item"}).json()
    assert [r["detail"].split()[0] for r in exported["records"]] == ["unshare", "share"]
    # Another account's admin sees none of it.
    with Browser() as outsider:
        outsider.sign_in(other.url, "admin")
        theirs = outsider.get(f"{other.url}/audit/export.json", params={"type": "shared-item"})
    assert theirs.json()["records"] == []


def test_export_and_import_carry_the_shared_flag(app, agent, developer, tmp_path):
    share_payload(agent, app)
    save_payload(agent, app, "private", "{}")
    exported = agent.get(f"{app.url}/payloads/export").json()["savedPayloads"]

    assert {(p["name"], p.get("shared", False)) for p in exported} == {
        ("team order", True),
        ("private", False),
    }
    renamed = [{**p, "name": p["name"] + " 2"} for p in exported]
    renamed.append(
        {"kind": "function", "target": demo.ECHO, "name": "bad", "payload": "{", "shared": True}
    )
    listing = developer.get(f"{app.url}/payloads")
    done = developer.post(
        f"{app.url}/payloads/import",
        data={"csrf_token": developer.csrf(listing)},
        files={"file": ("p.json", json.dumps({"savedPayloads": renamed}))},
    )
    # Issue 21 item 4: the message says what was added, shared and skipped.
    said = visible_text(done)
    assert "Added 1 saved payload: “private 2”; shared 1 payload with the team" in said
    assert "skipped 1 invalid" in said
    assert "team order 2" in agent.get(f"{app.url}/payloads").text  # shared, so seen
    assert "private 2" not in agent.get(f"{app.url}/payloads").text


CASE = {"name": "echo", "function": demo.ECHO, "payload": {"a": 1}}


def make_suite(browser, app, name="Team smoke"):
    listing = browser.get(f"{app.url}/suites")
    page = browser.form_post(listing, {"name": name}, action="/suites")
    suite_id = re.search(r'action="/suites/([0-9a-f]+)/edit"', page.text).group(1)
    text = json.dumps({"name": name, "cases": [CASE]})
    browser.form_post(page, {"suite": text}, action=f"/suites/{suite_id}/edit")
    return suite_id


def test_a_shared_suite_is_run_by_the_account_changed_by_owner_and_admins(
    app, sandbox, agent, developer, admin, outsider, other, changes
):
    suite_id = make_suite(agent, app)
    page = agent.get(f"{app.url}/suites/{suite_id}")
    shared = agent.form_post(page, {}, action=f"/suites/{suite_id}/share")
    assert "Shared “Team smoke” with the account." in shared.text

    listing = visible_text(developer.get(f"{app.url}/suites"))
    assert "Team smoke agent" in listing
    theirs = developer.get(f"{app.url}/suites/{suite_id}")
    assert "Only agent and the account's administrators may change" in visible_text(theirs)
    ran = run(developer, theirs)
    assert "1 passed, 0 failed of 1 case" in visible_text(ran)
    assert calls(sandbox, "invoke") == 1
    refused = developer.post(
        f"{app.url}/suites/{suite_id}/edit",
        data={
            "csrf_token": developer.csrf(theirs),
            "suite": json.dumps({"name": "x", "cases": []}),
            "version": "1",
        },
    )
    assert refused.status_code == 403 and "Only agent" in visible_text(refused)
    copied = developer.form_post(theirs, {}, action=f"/shared/suites/{suite_id}/copy")
    assert "Copied “Team smoke” to your suites." in copied.text

    edit = admin.get(f"{app.url}/suites/{suite_id}")
    text = json.dumps({"name": "Team smoke", "cases": [CASE, CASE]})
    stale = agent.get(f"{app.url}/suites/{suite_id}")
    saved = admin.form_post(edit, {"suite": text}, action=f"/suites/{suite_id}/edit")
    assert "Saved “Team smoke” with 2 cases." in saved.text
    conflict = agent.form_post(stale, {"suite": text}, action=f"/suites/{suite_id}/edit")
    assert conflict.status_code == 409 and "admin saved version 2" in visible_text(conflict)

    assert "Team smoke" not in outsider.get(f"{other.url}/suites").text
    assert outsider.get(f"{other.url}/suites/{suite_id}").status_code == 404
    exported = agent.get(f"{app.url}/suites/export").json()["suites"]
    assert [(s["name"], s.get("shared")) for s in exported] == [("Team smoke", True)]
    assert [c["action"] for c in changes] == ["share", "edit"]

    page = agent.get(f"{app.url}/suites/{suite_id}")
    agent.form_post(page, {}, action=f"/suites/{suite_id}/unshare")
    assert f"/suites/{suite_id}" not in developer.get(f"{app.url}/suites").text
    assert developer.get(f"{app.url}/suites/{suite_id}").status_code == 404
    assert f"/suites/{suite_id}" in agent.get(f"{app.url}/suites").text


def test_a_suite_imported_as_shared_is_the_importers_and_seen_by_the_account(
    app, agent, developer
):
    export = {
        "suites": [
            {"name": "Imported team suite", "cases": [CASE], "shared": True},
            {"name": "Imported own suite", "cases": [CASE]},
            {"name": "Bad", "cases": [{"function": "nope"}], "shared": True},
        ]
    }
    listing = developer.get(f"{app.url}/suites")

    done = developer.post(
        f"{app.url}/suites/import",
        data={"csrf_token": developer.csrf(listing)},
        files={"file": ("suites.json", json.dumps(export))},
    )

    assert "Imported 2 suites." in visible_text(done) and "Not imported: suite 3" in done.text
    seen = visible_text(agent.get(f"{app.url}/suites"))
    assert "Imported team suite developer" in seen and "Imported own suite" not in seen
