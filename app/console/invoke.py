"""One invocation: send it, classify the outcome, keep it in the user's history."""

import json
import time
from uuid import uuid4

import msgspec
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask import session

from app.auth import flow
from app.auth import tokens
from app.console import as_app
from app.console import gateway
from app.console import snippets
from app.workspace import variables
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError

# Characters of a response kept in the history; payloads are kept whole (the form caps them).
MAX_KEPT_RESPONSE = 64 * 1024
# Kept whole beside the history for the user's latest invocations (userdata.WHOLE_KEPT).
MAX_WHOLE_RESPONSE = 1024 * 1024
FUNCTIONS_UI_LOGS = (
    "Read the function's logs in the Functions UI (find the request id) to see what it did."
)
LOGS_BELOW = "Read the function's logs below to see what it did."
NO_INVOKE_KEY = "may_not_invoke"


def userdata():
    return current_app.extensions["userdata"]


def kept(text, entry, where="response"):
    """Return a response as kept in the history entry, marking the entry when it was cut;
    the whole text (up to MAX_WHOLE_RESPONSE) waits under "_whole" to be kept beside it."""
    if len(text) <= MAX_KEPT_RESPONSE:
        return text
    if where == "response":
        entry["response_cut"] = len(text)
    if len(text) <= MAX_WHOLE_RESPONSE:
        entry.setdefault("_whole", {})[where] = text
    return text[:MAX_KEPT_RESPONSE]


def shown(value):
    """Pretty-print a result for display; it is escaped by the template."""
    if isinstance(value, str):
        return value
    # json's indent= runs its pure-Python encoder, the costliest step of a result page;
    # msgspec re-indents the C encoder's text to the same characters.
    text = json.dumps(value, ensure_ascii=False)
    try:
        return msgspec.json.format(text, indent=2)
    except ValueError:  # NaN is not JSON to msgspec, nor a lone surrogate UTF-8
        return json.dumps(value, indent=2, ensure_ascii=False)


# The codes for "no (deployed) function with this UUID" (V1, V2).
MISSING_CODES = ("com.liveperson.faas.es.missinglambda", "com.liveperson.faas.function.not-found")


def with_whole(entry):
    """Return the entry with its whole responses when they are still kept; else as it is,
    marked `trimmed` when its responses were cut."""
    whole = userdata().whole(g.user["sub"], entry["id"]) if "id" in entry else None
    cut = entry.get("response_cut") or any(
        len(row["result"]) >= MAX_KEPT_RESPONSE for row in entry.get("rows") or ()
    )
    if not cut:
        return entry
    if not whole:
        return {**entry, "trimmed": True}
    entry = {**entry, "response": whole.get("response", entry.get("response"))}
    entry.pop("response_cut", None)
    entry["rows"] = [
        {**row, "result": whole.get(f"row {number}", row["result"])}
        for number, row in enumerate(entry.get("rows") or ())
    ]
    return entry


def failed(entry, error):
    """Describe a refused or failed invocation in the entry."""
    logs = getattr(error, "error_logs", [])
    advice = error.advice
    if isinstance(error, FaaSLambdaError) and logs:
        # The catalogue points at the Functions UI; here the logs are on the same page.
        advice = advice.replace(FUNCTIONS_UI_LOGS, LOGS_BELOW)
    explanation = error.explanation
    if error.status == 404 and entry["kind"] == "function":
        account = current_app.config["LP_ACCOUNT_ID"]
        missing = f"No function with this UUID is deployed on account {account}."
        # Those codes' own explanation says the same without the account: say it once.
        same = getattr(error, "code", None) in MISSING_CODES
        explanation = missing if same else f"{missing} {explanation}"
    if error.status == 403:
        session[NO_INVOKE_KEY] = True
    entry.update(
        outcome="function-error" if isinstance(error, FaaSLambdaError) else "platform-error",
        status=error.status,
        response=kept(error.message, entry),
        logs=logs,
        error={
            "code": getattr(error, "code", None),
            "explanation": explanation,
            "advice": advice,
            "retry_after": getattr(error, "retry_after", None),
        },
    )


def run(kind, target, name, form, call):
    """Invoke, classify the outcome, and record it in the user's history; return the entry."""
    # Our own request id, so even an invocation by event (whose answer names none) has one.
    request_id = str(uuid4())
    entry = {
        "kind": kind,
        "target": target,
        "name": name,
        "at": time.time(),
        "payload": form.payload_text,
        "headers": form.headers,
        "skill_id": form.skill_id,
        "event_source": form.event_source,
        "logs": [],
        "rows": [],
        "error": None,
        "request_id": request_id,
        "token": "app" if as_app.chosen() else "user",
    }
    started = time.perf_counter()
    try:
        result = gateway.call("faasGW", lambda client: call(client, request_id))
    except FaaSError as error:
        failed(entry, error)
    else:
        session.pop(NO_INVOKE_KEY, None)
        entry.update(outcome="success", **result(entry))
    entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    whole = entry.pop("_whole", None)
    entry = variables.record(entry, form)
    if whole and form.variables:
        # Masked as the entry is: a secret value the function echoed never reaches the store.
        mask = form.variables["resolver"].mask
        whole = {where: mask(text) for where, text in whole.items()}
    entry["id"] = userdata().add_invocation(g.user["sub"], entry)
    if whole:
        userdata().save_whole(g.user["sub"], entry["id"], whole)
    if not session.get("first_invocation_noted"):
        url, headers = request_preview(entry)
        flow.note_invocation(
            session["token_key"], url, headers, entry.get("status"), entry["outcome"]
        )
        session["first_invocation_noted"] = True
    return entry


def request_preview(entry):
    """Return the gateway URL and the headers an invocation sends, the token shortened."""
    request = snippets.prepared(entry, user_id=session["user"]["sub"])
    token = tokens.load(session["token_key"]) or {}
    headers = {"Authorization": "Bearer " + flow.short(token.get("access_token"))}
    headers["X-Request-ID"] = "(a new UUID for each call)"
    return request.full_url, list((headers | dict(request.headers)).items())


def walkthrough_pause(kind, target, form, name):
    """Signing in step by step, stop before the first call made with the user's token."""
    if "skip_pauses" in request.form:
        session["walkthrough"] = False
    if (
        not session.get("walkthrough")
        or session.get("first_invocation_noted")
        or request.form.get("walkthrough") == "continue"
    ):
        return None
    entry = {"kind": kind, "target": target, "skill_id": form.skill_id}
    entry["event_source"] = form.event_source
    url, headers = request_preview(entry)
    return render_template(
        "flow/pause.html", step="invoke", form=form, url=url, headers=headers, name=name
    )


def by_uuid(result):
    """Return what an invocation by UUID adds to its history entry."""
    return lambda entry: {
        "status": result.status,
        "response": kept(shown(result.result), entry),
        "logs": result.logs,
        "content_type": (result.content_type or "")[:100],
    }


def by_event(results, functions):
    """Return what an invocation by event adds to its history entry: one row per function."""
    names = {f["uuid"]: f["name"] for f in functions}

    def rows(entry):
        return {
            "status": 200,
            "response": "",
            "rows": [
                {
                    "uuid": r.uuid,
                    "name": names.get(r.uuid, ""),
                    "timestamp": r.timestamp,
                    "result": kept(shown(r.result), entry, f"row {number}"),
                }
                for number, r in enumerate(results)
            ],
        }

    return rows
