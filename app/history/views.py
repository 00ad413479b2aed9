"""Each user's invocation history and saved payloads: pages, export and import."""

import json
import time

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from app.auth.views import login_required
from app.console import forms
from app.console import snippets
from app.console.views import userdata

bp = Blueprint("history", __name__)

MAX_IMPORT = 500


@bp.app_template_filter("datetime")
def as_datetime(timestamp):
    """Show an epoch time as a UTC date and time."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


@bp.app_template_filter("when")
def as_when(value):
    """Show an ISO timestamp from the platform compactly (date and time), or as given."""
    if not value:
        return "—"
    text = str(value)
    return text[:19].replace("T", " ") if len(text) >= 19 and text[10] == "T" else text


def page_of(kind, target, **params):
    """Return the invoke page of a function or an event."""
    if kind == "function":
        return url_for("console.function", uuid=target, **params)
    return url_for("console.event", event_id=target, **params)


def download(data, filename):
    body = json.dumps(data, indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def target_of(fields):
    """Return which function or event a payload is about, or None if that is not valid."""
    kind, target = fields.get("kind"), fields.get("target")
    if not isinstance(target, str):
        return None
    if kind == "function" and forms.UUID.match(target):
        return kind, target.lower()
    if kind == "event" and forms.check_event_id(target):
        return kind, target
    return None


@bp.get("/history")
@login_required
def index():
    """List this user's invocations, newest first."""
    return render_template("history/index.html", entries=userdata().invocations(g.user["sub"]))


@bp.get("/history/<entry_id>")
@login_required
def entry(entry_id):
    """Show one invocation in full, with a way to run it again."""
    found = userdata().invocation(g.user["sub"], entry_id)
    if found is None:
        abort(404)
    return render_template(
        "history/entry.html",
        entry=found,
        again=page_of(found["kind"], found["target"], **{"from": found["id"]}),
        curl=snippets.curl(found),
        python=snippets.python(found),
    )


@bp.get("/history/export")
@login_required
def export_history():
    """Download this user's history as JSON."""
    return download(userdata().invocations(g.user["sub"]), "invocation-history.json")


@bp.post("/payloads")
@login_required
def save_payload():
    """Save the form's payload under a name, for this function or event."""
    kind, target = target_of(request.form) or abort(400)
    name = forms.check_name(request.form.get("name"))
    text = request.form.get("payload", "")
    back = page_of(kind, target)
    if name is None:
        flash("Give the payload a name (at most 80 characters) to save it.")
        return redirect(back, 303)
    try:
        forms.parse_payload(text)
    except forms.PayloadError as exc:
        flash(f"Not saved: the payload is not valid JSON: {exc}.")
        return redirect(back, 303)
    userdata().save_payload(g.user["sub"], kind, target, name, text)
    flash(f"Saved the payload as “{name}”.")
    return redirect(page_of(kind, target, saved=name), 303)


@bp.post("/payloads/delete")
@login_required
def delete_payload():
    """Delete a saved payload."""
    kind, target = target_of(request.form) or abort(400)
    name = request.form.get("name", "")
    if userdata().delete_payload(g.user["sub"], kind, target, name):
        flash(f"Deleted the saved payload “{name}”.")
    return redirect(page_of(kind, target), 303)


@bp.get("/payloads/export")
@login_required
def export_payloads():
    """Download this user's saved payloads as JSON, to keep in git."""
    items = [
        {"kind": p["kind"], "target": p["target"], "name": p["name"], "payload": p["payload"]}
        for p in userdata().payloads(g.user["sub"])
    ]
    return download({"savedPayloads": items, "exportedAt": int(time.time())}, "payloads.json")


@bp.post("/payloads/import")
@login_required
def import_payloads():
    """Add saved payloads from an exported JSON file; bad entries are reported, not saved."""
    upload = request.files.get("file")
    try:
        data = json.loads(upload.read()) if upload else None
        items = data["savedPayloads"]
        if not isinstance(items, list) or len(items) > MAX_IMPORT:
            raise ValueError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        flash("That file is not a saved-payloads export (a JSON file from Export).")
        return redirect(url_for("history.payloads"), 303)
    saved = skipped = 0
    for item in items:
        checked = valid_import(item)
        if checked is None:
            skipped += 1
            continue
        userdata().save_payload(g.user["sub"], *checked)
        saved += 1
    flash(
        f"Imported {saved} saved payloads" + (f"; skipped {skipped} invalid." if skipped else ".")
    )
    return redirect(url_for("history.payloads"), 303)


def valid_import(item):
    """Return (kind, target, name, payload) for a well-formed imported item, else None."""
    if not isinstance(item, dict):
        return None
    where, name = target_of(item), forms.check_name(item.get("name"))
    payload = item.get("payload")
    if where is None or name is None or not isinstance(payload, str):
        return None
    try:
        forms.parse_payload(payload)
    except forms.PayloadError:
        return None
    return (*where, name, payload)


@bp.get("/payloads")
@login_required
def payloads():
    """List every saved payload, with export and import."""
    items = userdata().payloads(g.user["sub"])
    for item in items:
        item["page"] = page_of(item["kind"], item["target"], saved=item["name"])
    return render_template("history/payloads.html", items=items)
