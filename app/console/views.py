"""The invocation console: the account's functions, and invoking by UUID or by event."""

import json
import time
from uuid import uuid4

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.datastructures import MultiDict

from app.auth import flow
from app.auth import tokens
from app.auth.views import login_required
from app.auth.views import take_pending_form
from app.console import as_app
from app.console import events as catalogue
from app.console import forms
from app.console import gateway
from app.console import snippets
from liveperson_functions.client import USER_AGENT
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError

bp = Blueprint("console", __name__)

STATES = ("Productive", "Modified", "Draft", "Marked Undeployed")
PAGE_SIZE = 100
INVOCABLE = ("Productive", "Modified")
MAX_KEPT = 64 * 1024  # characters of a payload or response kept in the history


def userdata():
    return current_app.extensions["userdata"]


def problem(error, what):
    """Render a page-level failure of a platform call, or hand sign-in trouble to the handlers."""
    error = gateway.unwrap(error)
    if not isinstance(error, FaaSError):
        raise error
    status = error.status if isinstance(error, FaaSDetailedError) else None
    page_status = status if status in (400, 403, 404, 429) else 502
    return render_template("console/problem.html", what=what, error=error), page_status


def find_function(uuid):
    return next((f for f in gateway.functions() if f["uuid"] == uuid), None)


def sample_payload(function):
    """Return the function's sample payload as JSON text (V1 keeps it under `payload`)."""
    sample = function.get("samplePayload")
    if isinstance(sample, dict) and "payload" in sample:
        sample = sample["payload"]
    return json.dumps(sample if sample is not None else {}, indent=2)


def prefill(kind, target, default):
    """Fill the form from what was typed before signing in again, a history entry, a saved
    payload, the last payload, or the sample."""
    pending = take_pending_form()
    if pending is not None:
        flash("You are signed in again. What you typed is back; press Invoke to send it.")
        return forms.read_invoke_form(MultiDict(pending))
    sub = g.user["sub"]
    entry_id, saved = request.args.get("from"), request.args.get("saved")
    if entry_id:
        entry = userdata().invocation(sub, entry_id)
        if entry and (entry["kind"], entry["target"]) == (kind, target):
            return forms.Invocation(
                entry["payload"], entry["headers"], entry["skill_id"], entry["event_source"]
            )
    if saved:
        for item in userdata().payloads(sub, kind, target):
            if item["name"] == saved:
                return forms.Invocation(item["payload"])
    return forms.Invocation(userdata().last_payload(sub, kind, target) or default)


def kept(text):
    return text if len(text) <= MAX_KEPT else text[:MAX_KEPT] + "\n… (cut)"


def shown(value):
    """Pretty-print a result for display; it is escaped by the template."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def run(kind, target, name, form, call):
    """Invoke, classify the outcome, and record it in the user's history."""
    # Our own request id, so even an invocation by event (whose answer names none) has one.
    request_id = str(uuid4())
    entry = {
        "kind": kind,
        "target": target,
        "name": name,
        "at": time.time(),
        "payload": kept(form.payload_text),
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
        error = gateway.unwrap(error)
        if not isinstance(error, FaaSError):
            raise error from None
        entry.update(
            outcome="function-error" if isinstance(error, FaaSLambdaError) else "platform-error",
            status=error.status,
            response=kept(error.message),
            logs=getattr(error, "error_logs", []),
            error={
                "code": getattr(error, "code", None),
                "explanation": error.explanation,
                "advice": error.advice,
                "retry_after": getattr(error, "retry_after", None),
            },
        )
    else:
        entry.update(outcome="success", **result)
    entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    entry["id"] = userdata().add_invocation(g.user["sub"], entry)
    if not session.get("first_invocation_noted"):
        url, headers = request_preview(entry)
        flow.note_invocation(
            session["token_key"], url, headers, entry.get("status"), entry["outcome"]
        )
        session["first_invocation_noted"] = True
    return entry


def request_preview(entry):
    """Return the gateway URL and the headers an invocation sends, the token shortened."""
    url, v2 = snippets.gateway_url(entry)
    token = tokens.load(session["token_key"]) or {}
    headers = [
        ("Authorization", "Bearer " + flow.short(token.get("access_token"))),
        ("Content-Type", "application/json"),
        ("X-Request-ID", entry.get("request_id") or "(a new UUID for each call)"),
        ("User-Agent", USER_AGENT),
    ]
    if v2:
        headers.append(("LP-EventSource", entry["event_source"] or gateway.EVENT_SOURCE))
    return url, headers


def walkthrough_pause(kind, target, form, template_context):
    """In walk-through mode, stop before the first call made with the user's token."""
    if (
        not current_app.config["LP_DEMO_MODE"]
        or session.get("first_invocation_noted")
        or request.form.get("walkthrough") == "continue"
    ):
        return None
    entry = {"kind": kind, "target": target, "skill_id": form.skill_id}
    entry["event_source"] = form.event_source
    url, headers = request_preview(entry)
    return render_template(
        "flow/pause.html", step="invoke", form=form, url=url, headers=headers, **template_context
    )


def by_uuid(result):
    return {
        "status": result.status,
        "response": kept(shown(result.result)),
        "logs": result.logs,
    }


def by_event(results, functions):
    names = {f["uuid"]: f["name"] for f in functions}
    rows = [
        {
            "uuid": r.uuid,
            "name": names.get(r.uuid, ""),
            "timestamp": r.timestamp,
            "result": kept(shown(r.result)),
        }
        for r in results
    ]
    return {"status": 200, "response": "", "rows": rows}


def page_for(template, entry, **context):
    """Render an invoke page, with the result's copy-as snippets when there is one."""
    if entry:
        context.update(curl=snippets.curl(entry), python=snippets.python(entry))
    saved = userdata().payloads(g.user["sub"], context["kind"], context["target"])
    return render_template(template, result=entry, saved=saved, **context)


@bp.get("/functions")
@login_required
def functions():
    """List the account's functions, filtered by state, event and name."""
    state = request.args.get("state", "")
    event = request.args.get("event", "").strip()[:128]
    name = request.args.get("name", "").strip()[:128]
    try:
        found = gateway.functions()
    except FaaSError as error:
        return problem(error, "list the account's functions")
    listed = [
        f
        for f in found
        if (not state or f["state"] == state)
        and event.lower() in (f["eventId"] or "").lower()
        and name.lower() in (f["name"] or "").lower()
    ]
    listed.sort(key=lambda f: (f["name"] or "").lower())
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return render_template(
        "console/functions.html",
        functions=listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        matching=len(listed),
        total=len(found),
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        filters={"state": state, "event": event, "name": name},
        states=STATES,
        invocable=INVOCABLE,
    )


@bp.route("/functions/<uuid:uuid>", methods=["GET", "POST"])
@login_required
def function(uuid):
    """Show a function's invoke page; invoke it when the form is sent."""
    uuid = str(uuid)
    try:
        found = find_function(uuid)
    except FaaSError as error:
        return problem(error, "look up this function")
    if found is None:
        abort(404)
    context = {"function": found, "kind": "function", "target": uuid, "invocable": INVOCABLE}
    if request.method == "GET":
        form = prefill("function", uuid, sample_payload(found))
        return page_for("console/function.html", None, form=form, **context)
    form = forms.read_invoke_form(request.form)
    as_app.choose(request.form)
    if found["state"] not in INVOCABLE:
        form.errors["state"] = "This function is not deployed, so it cannot be invoked."
    if form.errors:
        return page_for("console/function.html", None, form=form, **context), 400
    paused = walkthrough_pause("function", uuid, form, {"name": found["name"]})
    if paused:
        return paused
    entry = run(
        "function",
        uuid,
        found["name"],
        form,
        lambda client, request_id: by_uuid(
            client.invoke(uuid, form.payload, request_id=request_id, **form.options())
        ),
    )
    return page_for("console/function.html", entry, form=form, **context)


@bp.get("/events")
@login_required
def events():
    """List the documented events, and take a free event id."""
    typed = request.args.get("event_id")
    if typed is not None:
        if forms.check_event_id(typed.strip()):
            return redirect(url_for("console.event", event_id=typed.strip()))
        error = "An event id is 1 to 128 letters, digits, and _ . : - characters."
        return render_template("console/events.html", events=catalogue.EVENTS, error=error), 400
    return render_template("console/events.html", events=catalogue.EVENTS, error=None)


def will_run(functions, event_id, skill_id):
    """Return the deployed functions on an event, for a skill when one is given."""
    return [
        f
        for f in functions
        if f["eventId"] == event_id
        and f["state"] in INVOCABLE
        and (not skill_id or not f["skills"] or skill_id in f["skills"])
    ]


@bp.route("/events/<event_id>", methods=["GET", "POST"])
@login_required
def event(event_id):
    """Show who implements an event; invoke it when the form is sent."""
    if not forms.check_event_id(event_id):
        abort(404)
    described = catalogue.describe(event_id)
    if request.method == "POST":
        form = forms.read_invoke_form(request.form)
        as_app.choose(request.form)
    else:
        form = prefill("event", event_id, json.dumps(described.sample, indent=2))
        form.skill_id = request.args.get("skill_id", form.skill_id).strip()[:64]
    skill = form.skill_id if forms.SKILL_ID.match(form.skill_id or "-") else ""
    try:
        everything = gateway.functions()
        implemented = gateway.call(
            "faasGW", lambda client: client.is_implemented(event_id, skill or None)
        )
    except FaaSError as error:
        return problem(error, "check who implements this event")
    context = {
        "event": described,
        "kind": "event",
        "target": event_id,
        "implemented": implemented,
        "runners": will_run(everything, event_id, skill),
    }
    if request.method == "GET":
        return page_for("console/event.html", None, form=form, **context)
    if form.errors:
        return page_for("console/event.html", None, form=form, **context), 400
    paused = walkthrough_pause("event", event_id, form, {"name": described.title})
    if paused:
        return paused
    entry = run(
        "event",
        event_id,
        described.title,
        form,
        lambda client, request_id: by_event(
            client.invoke_event(event_id, form.payload, request_id=request_id, **form.options()),
            everything,
        ),
    )
    return page_for("console/event.html", entry, form=form, **context)
