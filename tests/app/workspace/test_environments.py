"""Environments and {{variables}} in the app: filled on invoke, secrets never shown again."""

import json
import re

from sandbox import functions as demo
from tests.app.suites.test_suites import run
from tests.app.workspace.test_shared import make_suite
from tests.support import calls
from tests.support import sandbox_log
from tests.support import visible_text

SECRET = "k-7f3a-secret-value"
PAGE = f"/functions/{demo.ECHO}"


def create_environment(browser, app, name="Staging", shared=False, variables=()):
    """Create an environment and save its variables: (name, value, secret) rows."""
    listing = browser.get(f"{app.url}/environments")
    page = browser.form_post(
        listing, {"name": name, **({"shared": "1"} if shared else {})}, action="/environments"
    )
    env_id = re.search(r'action="/environments/([0-9a-f]+)"', page.text).group(1)
    data = {
        "name": name,
        "var_name": [v[0] for v in variables],
        "var_value": [v[1] for v in variables],
        "var_secret": [str(i) for i, v in enumerate(variables) if v[2]],
        **({"shared": "1"} if shared else {}),
    }
    saved = browser.form_post(page, data, action=f"/environments/{env_id}")
    assert f"Saved the environment “{name}”." in saved.text
    return env_id


VARIABLES = [("conversationId", "conv-42", False), ("count", "5", False), ("apiKey", SECRET, True)]
TYPED = '{"id": "{{conversationId}}", "n": {{count}}, "key": "{{apiKey}}", "at": {{$timestamp}}}'


def invoke(browser, app, env_id, payload=TYPED, headers=None, **fields):
    """Send the echo function's invoke form (as the page's script does, with `headers`)."""
    page = browser.get(f"{app.url}{PAGE}")
    data = {"payload": payload, "environment": env_id, **fields}
    return browser.form_post(page, data, action=PAGE, headers=headers or {})


def test_a_secret_is_never_shown_again(app, agent):
    env_id = create_environment(agent, app, variables=VARIABLES)

    page = agent.get(f"{app.url}/environments/{env_id}")

    assert SECRET not in page.text
    assert "conv-42" in page.text
    # Saving again with the secret left empty keeps it.
    agent.form_post(
        page,
        {"name": "Staging", "var_name": ["apiKey"], "var_value": [""], "var_secret": ["0"]},
        action=f"/environments/{env_id}",
    )
    done = invoke(agent, app, env_id, '{"key": "{{apiKey}}"}')
    assert done.status_code == 200


def test_variables_are_filled_sent_and_the_history_keeps_both_with_secrets_masked(
    app, sandbox, agent, caplog
):
    caplog.set_level("DEBUG")
    env_id = create_environment(agent, app, variables=VARIABLES)

    done = invoke(
        agent, app, env_id, header_name=["x-key", ""], header_value=["Bearer {{apiKey}}", ""]
    )

    assert done.status_code == 200, visible_text(done)
    [seen] = sandbox_log(sandbox, "invoke")
    sent = seen["body"]["payload"]
    assert {k: sent[k] for k in ("id", "n", "key")} == {"id": "conv-42", "n": 5, "key": SECRET}
    assert isinstance(sent["at"], int)
    assert seen["body"]["headers"] == [{"key": "x-key", "value": f"Bearer {SECRET}"}]
    # The echo function answers with the secret: nowhere on the page, in the history or export.
    assert SECRET not in done.text
    text = visible_text(done)
    assert "Sent with the environment “Staging”" in text
    assert '"key": "••••"' in text and '"id": "conv-42"' in text and "Bearer ••••" in text
    assert "{{conversationId}}" in done.text  # the form holds what was typed
    exported = agent.get(f"{app.url}/history/export").text
    assert SECRET not in exported and "{{apiKey}}" in exported
    again = re.search(r'href="([^"]+\?from=[0-9a-f]+)"', done.text).group(1)
    again_page = agent.get(f"{app.url}{again.replace('&amp;', '&')}")
    assert "{{conversationId}}" in again_page.text
    assert f'<option value="{env_id}" selected>' in again_page.text
    assert SECRET not in again_page.text
    assert "apiKey" in caplog.text or "invoke" in caplog.text  # the app's lines were captured
    assert SECRET not in caplog.text


def test_an_unknown_variable_is_a_form_error_and_nothing_is_sent(app, sandbox, agent):
    env_id = create_environment(agent, app, variables=VARIABLES)

    done = invoke(agent, app, env_id, '{"id": "{{orderId}}"}')

    assert done.status_code == 400
    assert "unknown variable {{orderId}}" in visible_text(done)
    assert "the environment “Staging” does not define it" in visible_text(done)
    assert calls(sandbox, "invoke") == 0


def test_json_checks_hold_after_filling(app, sandbox, agent):
    env_id = create_environment(agent, app, variables=[("half", '{"a": ', False)])

    done = invoke(agent, app, env_id, "{{half}}1}")
    assert done.status_code == 200  # {"a": 1} once filled
    broken = invoke(agent, app, env_id, "{{half}}}")

    assert broken.status_code == 400 and "not valid JSON" in visible_text(broken)
    assert calls(sandbox, "invoke") == 1


def test_the_preview_shows_what_will_be_sent_and_sends_nothing(app, sandbox, agent):
    env_id = create_environment(agent, app, variables=VARIABLES)

    shown = invoke(agent, app, env_id, preview="1")

    assert shown.status_code == 200
    text = visible_text(shown)
    assert "What will be sent" in text and '"id": "conv-42"' in text and '"n": 5' in text
    assert '"key": "••••"' in text and SECRET not in shown.text
    assert calls(sandbox, "invoke") == 0


def test_a_shared_environment_is_used_by_the_account_changed_by_owner_and_admins(
    app, sandbox, agent, developer, admin, outsider, other
):
    env_id = create_environment(agent, app, shared=True, variables=VARIABLES)

    listing = visible_text(developer.get(f"{app.url}/environments"))
    assert "Staging agent" in listing
    theirs = developer.get(f"{app.url}/environments/{env_id}")
    assert "Only agent and the account's administrators may change" in visible_text(theirs)
    assert SECRET not in theirs.text and "conv-42" in theirs.text
    refused = developer.post(
        f"{app.url}/environments/{env_id}",
        data={"csrf_token": developer.csrf(theirs), "name": "Mine", "version": "2"},
    )
    assert refused.status_code == 403 and "Nothing was changed" in refused.text
    assert invoke(developer, app, env_id, '{"k": "{{apiKey}}"}').status_code == 200
    assert sandbox_log(sandbox, "invoke")[0]["body"]["payload"] == {"k": SECRET}
    copied = developer.form_post(theirs, {}, action=f"/environments/{env_id}/copy")
    assert "Copied to your environments as “Staging (copy)”" in copied.text
    assert SECRET not in copied.text

    stale = agent.get(f"{app.url}/environments/{env_id}")
    edit = admin.get(f"{app.url}/environments/{env_id}")
    rows = {"var_name": ["count"], "var_value": ["6"], "shared": "1"}
    assert (
        "Saved"
        in admin.form_post(edit, {"name": "Staging", **rows}, action=edit.url[len(app.url) :]).text
    )
    conflict = agent.form_post(
        stale, {"name": "Staging", **rows}, action=stale.url[len(app.url) :]
    )
    assert conflict.status_code == 409 and "admin saved version 3" in visible_text(conflict)
    assert SECRET not in conflict.text

    assert "Staging" not in outsider.get(f"{other.url}/environments").text
    assert outsider.get(f"{other.url}/environments/{env_id}").status_code == 404
    page = outsider.get(f"{other.url}{PAGE}")
    sent = outsider.form_post(page, {"environment": env_id}, action=PAGE)
    assert sent.status_code == 400 and "not there any more" in visible_text(sent)


def test_a_suite_runs_against_a_chosen_environment_and_its_report_masks_secrets(
    app, sandbox, agent
):
    env_id = create_environment(agent, app, variables=VARIABLES)
    suite_id = make_suite(agent, app)
    case = {"name": "echo", "function": demo.ECHO, "payload": {"k": "{{apiKey}}"}}
    wrong = {**case, "name": "wrong", "expect": {"json": [{"path": "$.k", "equals": "x"}]}}
    page = agent.get(f"{app.url}/suites/{suite_id}")
    text = json.dumps({"name": "Team smoke", "cases": [case, wrong]})
    page = agent.form_post(page, {"suite": text}, action=f"/suites/{suite_id}/edit")

    done = run(agent, page, environment=env_id)

    assert "1 passed, 1 failed of 2 cases" in visible_text(done)
    assert SECRET not in done.text and "••••" in done.text
    assert [e["body"]["payload"] for e in sandbox_log(sandbox, "invoke")] == [{"k": SECRET}] * 2
    history = agent.get(f"{app.url}/history/export").text
    assert SECRET not in history and "{{apiKey}}" in history

    unknown = agent.form_post(page, {"environment": ""}, action=f"/suites/{suite_id}/run")
    assert "Nothing was run: unknown variable {{apiKey}}" in visible_text(unknown)
    assert calls(sandbox, "invoke") == 2


def test_a_payload_with_variables_is_saved_and_used_with_an_environment(app, sandbox, agent):
    from tests.app.workspace.test_shared import save_payload

    env_id = create_environment(agent, app, variables=VARIABLES)
    saved = save_payload(agent, app, "with count", '{"n": {{count}}, "id": "{{conversationId}}"}')
    assert "Saved the payload as “with count”" in saved.text
    broken = save_payload(agent, app, "broken", '{"n": {{count}}')
    assert "Not saved" in broken.text

    page = agent.get(f"{app.url}{PAGE}?saved=with+count")
    done = agent.form_post(page, {"environment": env_id}, action=PAGE)

    assert done.status_code == 200
    assert sandbox_log(sandbox, "invoke")[0]["body"]["payload"] == {"n": 5, "id": "conv-42"}


def test_an_unknown_variable_in_a_header_is_named_under_the_headers(app, sandbox, agent):
    done = invoke(agent, app, "", "{}", header_name=["x-id"], header_value=["{{traceId}}"])

    assert done.status_code == 400
    text = visible_text(done)
    assert "unknown variable {{traceId}} — no environment does not define it" not in text
    assert "unknown variable {{traceId}}" in text
    assert calls(sandbox, "invoke") == 0


def test_a_user_who_may_not_read_functions_sees_no_shared_environment(app, agent):
    from tests.app.workspace.conftest import signed_in

    env_id = create_environment(agent, app, shared=True, variables=VARIABLES)
    with signed_in(app, "viewer") as viewer:
        listing = viewer.get(f"{app.url}/environments")
        assert "Staging" not in listing.text
        assert "LivePerson does not let you read them" in visible_text(listing)
        assert viewer.get(f"{app.url}/environments/{env_id}").status_code == 404


def test_with_the_script_a_form_error_or_what_was_sent_comes_back_in_place(app, sandbox, agent):
    env_id = create_environment(agent, app, variables=VARIABLES)
    script = {"HX-Request": "true"}

    refused = invoke(agent, app, env_id, '{"id": "{{orderId}}"}', headers=script)
    sent = invoke(agent, app, env_id, headers=script)

    assert refused.status_code == 400 and refused.headers["HX-Retarget"] == "#request"
    assert "unknown variable {{orderId}}" in visible_text(refused)
    assert sent.status_code == 200 and "HX-Push-Url" in sent.headers
    assert "Sent with the environment “Staging”" in visible_text(sent)
    assert SECRET not in sent.text and '"key": "••••"' in visible_text(sent)
    assert calls(sandbox, "invoke") == 1


def test_a_big_echoed_secret_is_masked_in_the_whole_response_too(app, agent):
    # Over 64 KB, the response is kept whole beside the history (issue 21 item 5): masked too.
    env_id = create_environment(agent, app, variables=VARIABLES)
    big = json.dumps({"key": "{{apiKey}}", "filler": "x" * 70_000})
    done = invoke(agent, app, env_id, big)
    assert done.status_code == 200
    assert SECRET not in done.text and '"key": "••••"' in visible_text(done)
    entry_id = re.search(r"/history/([0-9a-f]{16})/response", done.text).group(1)
    download = agent.get(f"{app.url}/history/{entry_id}/response")
    assert download.json()["key"] == "••••" and SECRET not in download.text
