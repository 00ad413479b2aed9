"""The invocation console: the account's functions, and invoking by UUID or by event."""

import json
import re

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict

from app import htmx
from app.auth.resume import take_pending_form
from app.auth.resume import typed_fields
from app.auth.views import login_required
from app.console import as_app
from app.console import events as catalogue
from app.console import forms
from app.console import gateway
from app.console import implemented
from app.console import invoke
from app.workspace import shared
from app.workspace import variables
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError

bp = Blueprint("console", __name__)

STATES = ("Productive", "Modified", "Draft", "Marked Undeployed")
PAGE_SIZE = 100
INVOCABLE = ("Productive", "Modified")
ANY_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def userdata():
    return current_app.extensions["userdata"]


def problem(error, what, template="console/problem.html", **context):
    """Render a page-level failure of a platform call."""
    status = error.status if isinstance(error, FaaSDetailedError) else None
    page_status = status if status in (400, 403, 404, 429) else 502
    return render_template(template, what=what, error=error, **context), page_status


def find_function(uuid):
    """Return (the listed function with this UUID or None, why listing was refused or None)."""
    try:
        return next((f for f in gateway.functions() if f["uuid"] == uuid), None), None
    except FaaSDetailedError as error:
        # Listing is a convenience: a user who may invoke but not list still gets the form.
        if error.status not in (403, 404):
            raise
        return None, error


def sample_payload(function):
    """Return the function's sample payload as JSON text (V1 keeps it under `payload`)."""
    sample = (function or {}).get("samplePayload")
    if isinstance(sample, dict) and "payload" in sample:
        sample = sample["payload"]
    return json.dumps(sample if sample is not None else {}, indent=2)


def whole(text):
    """Return a kept payload if it is whole JSON, else None: a cut copy never goes back."""
    try:
        forms.check_saved(text or "")
    except forms.PayloadError:
        return None
    return text


def from_entry(entry):
    """Return the invoke form an invocation in the history was sent with."""
    return forms.Invocation(
        whole(entry["payload"]) or "{}",
        entry["headers"],
        entry["skill_id"],
        entry["event_source"],
        environment=entry.get("environment_id", ""),
        invoke_as=entry.get("token") or "user",
    )


def prefill(kind, target, default):
    """Fill the form from what was typed before signing in again, a history entry, a saved
    payload, the last payload, or the sample."""
    pending = take_pending_form()
    if pending is not None:
        flash("What you typed is back; press Invoke to send it.")
        return variables.read_invoke_form(MultiDict(pending))
    typed = typed_fields(request.args.get("typed"))
    if typed is not None:
        return variables.read_invoke_form(MultiDict(typed))
    sub = g.user["sub"]
    entry_id, saved = request.args.get("from"), request.args.get("saved")
    if entry_id:
        entry = userdata().invocation(sub, entry_id)
        if entry and (entry["kind"], entry["target"]) == (kind, target):
            return from_entry(entry)
    if saved:
        for item in userdata().payloads(sub, kind, target):
            if item["name"] == saved:
                return forms.Invocation(item["payload"])
    text = shared.shared_payload_text(kind, target, request.args.get("shared"))
    if text:
        return forms.Invocation(text)
    return forms.Invocation(whole(userdata().last_payload(sub, kind, target)) or default)


def send(kind, target, name, form, call):
    """Invoke and keep the entry; give the script the result panel and the entry's address,
    or send the browser to the entry's page: reload and Back never re-send."""
    entry = invoke.run(kind, target, name, form, call)
    address = url_for("history.entry", entry_id=entry["id"])
    if htmx.wanted():
        panel = render_template(
            "console/_result.html", result=invoke.with_whole(entry), partial=True
        )
        return panel, 200, {"HX-Push-Url": address}
    return redirect(address + "#result", 303)


def page_for(template, entry, saved=True, **context):
    """Render an invoke page (or a history entry's), with the saved payloads where shown."""
    if entry:
        entry = invoke.with_whole(entry)
    if saved:
        context["saved"] = userdata().payloads(g.user["sub"], context["kind"], context["target"])
    context.setdefault("action", request.path)
    return render_template(template, result=entry, **context)


def form_again(template, status=400, **context):
    """Give the form back with its messages and what was typed: the page, or the form alone
    for the script to put in place of its own."""
    if htmx.wanted():
        return page_for("console/_form.html", None, partial=True, **context), status, htmx.FORM
    return page_for(template, None, **context), status


def whole_page(body):
    """A page that replaces the invoke page (the walk-through's pause), script or not."""
    return body, 200, htmx.WHOLE_PAGE if htmx.wanted() else {}


@bp.after_request
def vary(response):
    if request.method == "POST":
        htmx.vary(response)
    return response


@bp.get("/functions")
@login_required
def functions():
    """List the account's functions, filtered by state, event and name; open any UUID."""
    opened = (request.args.get("open") or "")[:2048]
    # A UUID, or a Functions UI or gateway URL with one in it.
    found = ANY_UUID.search(opened)
    if found:
        return redirect(url_for("console.function", uuid=found.group(0).lower()))
    state = request.args.get("state", "")
    event = request.args.get("event", "").strip()[:128]
    name = request.args.get("name", "").strip()[:128]
    try:
        found = gateway.functions()
    except FaaSError as error:
        if opened:
            flash(NOT_OPENED)
        return problem(
            error, "list the account's functions", "console/functions.html", opened=opened
        )
    if opened.strip():
        named = by_name(found, opened.strip())
        if len(named) == 1:
            return redirect(url_for("console.function", uuid=named[0]["uuid"]))
        if named:
            return redirect(url_for("console.functions", name=opened.strip()))
        flash(NOT_OPENED)
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
        opened=opened,
        states=STATES,
        invocable=INVOCABLE,
    )


NOT_OPENED = (
    "No function has that UUID or name: paste a UUID, a Functions UI or gateway URL with one, "
    "or (part of) a function's name."
)


def by_name(functions, typed):
    """Return the functions a typed name means: the one named exactly so, else those whose
    name contains it."""
    wanted = typed.lower()
    exact = [f for f in functions if (f["name"] or "").lower() == wanted]
    return (
        exact if len(exact) == 1 else [f for f in functions if wanted in (f["name"] or "").lower()]
    )


@bp.route("/functions/<uuid:uuid>", methods=["GET", "POST"])
@login_required
def function(uuid):
    """Offer the invoke form for any well-formed UUID; invoke it when the form is sent."""
    uuid = str(uuid).lower()
    try:
        found, refused = find_function(uuid)
    except FaaSError as error:
        return problem(error, "look up this function")
    listed = found is not None
    found = found or {"uuid": uuid, "name": "Function " + uuid[:8], "state": None}
    context = {"function": found, "listed": listed, "refused": refused, "kind": "function"}
    context["target"] = uuid
    context["invocable"] = INVOCABLE
    # A listed function that is not deployed opens read-only: the page says why.
    context["readonly"] = listed and found["state"] not in INVOCABLE
    if request.method != "POST":
        # HEAD comes here too (Flask routes it to GET, Flask-WTF checks no CSRF on it): only a
        # POST, whose CSRF token was checked, ever sends.
        form = prefill("function", uuid, sample_payload(found))
        return page_for("console/function.html", None, form=form, **context)
    form = variables.read_invoke_form(request.form)
    as_app.choose(request.form, form)
    if listed and found["state"] not in INVOCABLE:
        form.errors["state"] = "This function is not deployed, so it cannot be invoked."
    if form.errors or "preview" in request.form:
        context["preview"] = variables.preview(form)
        status = 400 if form.errors else 200
        return form_again("console/function.html", status, form=form, **context)
    paused = invoke.walkthrough_pause("function", uuid, form, found["name"])
    if paused:
        return whole_page(paused)
    return send(
        "function",
        uuid,
        found["name"] if listed else "",
        form,
        lambda client, request_id: invoke.by_uuid(
            client.invoke(uuid, form.payload, request_id=request_id, **form.options())
        ),
    )


@bp.get("/events")
@login_required
def events():
    """List the documented events, and take a free event id."""
    typed = request.args.get("event_id")
    if typed is not None:
        if forms.check_event_id(typed.strip()):
            return redirect(url_for("console.event", event_id=typed.strip()))
        error = "An event id is 1 to 128 letters, digits, and _ . : - characters."
        return render_template(
            "console/events.html", events=catalogue.EVENTS, error=error, typed=typed
        ), 400
    found = implemented.check([e.event_id for e in catalogue.EVENTS])
    return render_template(
        "console/events.html", events=catalogue.EVENTS, error=None, implemented=found
    )


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
    sent = request.method == "POST"  # never HEAD, which Flask routes here without a CSRF check
    if sent:
        form = variables.read_invoke_form(request.form)
        as_app.choose(request.form, form)
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
    if not sent:
        return page_for("console/event.html", None, form=form, **context)
    if form.errors or "preview" in request.form:
        context["preview"] = variables.preview(form)
        status = 400 if form.errors else 200
        return form_again("console/event.html", status, form=form, **context)
    paused = invoke.walkthrough_pause("event", event_id, form, described.title)
    if paused:
        return whole_page(paused)
    return send(
        "event",
        event_id,
        described.title,
        form,
        lambda client, request_id: invoke.by_event(
            client.invoke_event(event_id, form.payload, request_id=request_id, **form.options()),
            everything,
        ),
    )
