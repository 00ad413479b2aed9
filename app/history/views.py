"""Each user's invocation history and saved payloads: pages, export and import."""

import datetime
import json
import secrets
import time

import msgspec
from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from app.auth.resume import keep_typed
from app.auth.resume import typed_fields
from app.auth.views import login_required
from app.console import forms
from app.console import gateway
from app.console import invoke
from app.console import snippets
from app.console.views import from_entry
from app.console.views import page_for
from app.console.views import userdata
from app.views import counted
from app.workspace import shared
from liveperson_functions.errors import FaaSError
from liveperson_functions.inputs import UUID

bp = Blueprint("history", __name__)

MAX_IMPORT = 500
MAX_PROBLEMS_SHOWN = 5
PENDING_IMPORT_TTL = 15 * 60  # seconds an import waits for "replace or keep"


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


@bp.app_template_filter("compact_json")
def as_compact_json(text):
    """Show a JSON response on one line (the raw view), or "" when it is not JSON."""
    try:
        return msgspec.json.format(text, indent=-1)
    except ValueError:  # not JSON, or a lone surrogate (not UTF-8)
        return ""


def page_of(kind, target, **params):
    """Return the invoke page of a function or an event."""
    if kind == "function":
        return url_for("console.function", uuid=target, **params)
    return url_for("console.event", event_id=target, **params)


def iso_time(epoch):
    """Write a time as ISO 8601 in UTC, as exports show it."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    if kind == "function" and UUID.fullmatch(target):
        return kind, target.lower()
    if kind == "event" and forms.check_event_id(target):
        return kind, target
    return None


@bp.get("/history")
@login_required
def index():
    """List this user's invocations, newest first, filtered by function, outcome and text."""
    everything = userdata().invocations(g.user["sub"])
    filters = {name: request.args.get(name, "").strip()[:200] for name in ("what", "outcome", "q")}
    text = filters["q"].lower()
    entries = [
        e
        for e in everything
        if (not filters["what"] or e["target"] == filters["what"])
        and (not filters["outcome"] or e["outcome"] == filters["outcome"])
        and (
            not text
            or any(
                text in str(e.get(k) or "").lower()
                for k in ("name", "target", "payload", "response", "request_id")
            )
        )
    ]
    targets = {e["target"]: e.get("name") or e["target"] for e in everything}
    return render_template(
        "history/index.html",
        entries=entries,
        total=len(everything),
        filters=filters,
        targets=sorted(targets.items(), key=lambda t: t[1].lower()),
    )


@bp.get("/history/<entry_id>")
@login_required
def entry(entry_id):
    """Show one invocation's result beside its form, ready to invoke again (the result page)."""
    found = own_entry(entry_id)
    kind, target = found["kind"], found["target"]
    page = page_of(kind, target)
    # "Copy as" without script: the page again with its snippets (with script: snippets_of()).
    shown = snippets.for_entry(found) if "copy" in request.args else {}
    return page_for(
        "history/entry.html",
        found,
        saved=False,
        form=from_entry(found),
        kind=kind,
        target=target,
        action=page,
        page=page,
        **shown,
    )


@bp.get("/history/<entry_id>/snippets")
@login_required
def snippets_of(entry_id):
    """An invocation's "Copy as" snippets, which the result panel's script puts in when opened."""
    return render_template("console/_snippets.html", **snippets.for_entry(own_entry(entry_id)))


def own_entry(entry_id):
    """Return this user's invocation with this id; any other id is not found."""
    found = userdata().invocation(g.user["sub"], entry_id)
    if found is None:
        abort(404)
    return found


@bp.get("/history/<entry_id>/response")
@login_required
def download_response(entry_id):
    """Download an invocation's response as a file: whole while it is kept whole."""
    found = invoke.with_whole(own_entry(entry_id))
    if found["kind"] == "function":
        body = found.get("response") or ""
    else:
        rows = [
            {"uuid": r["uuid"], "name": r["name"], "result": r["result"]} for r in found["rows"]
        ]
        body = json.dumps(rows, indent=2, ensure_ascii=False)
    try:
        json.loads(body)
    except ValueError:
        mimetype, suffix = "text/plain", "txt"
    else:
        mimetype, suffix = "application/json", "json"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="response-{entry_id}.{suffix}"'},
    )


@bp.get("/history/export")
@login_required
def export_history():
    """Download this user's history as JSON."""
    entries = [
        {**e, "at": iso_time(e["at"]), "payload": forms.typed(e["payload"])}
        for e in userdata().invocations(g.user["sub"])
    ]
    return download(entries, "invocation-history.json")


@bp.post("/payloads")
@login_required
def save_payload():
    """Save the form's payload under a name, for this function or event."""
    kind, target = target_of(request.form) or abort(400)
    name = forms.check_name(request.form.get("name"))
    text = forms.typed(request.form.get("payload", ""))
    if name is None:
        flash("Give the payload a name (at most 80 characters) to save it.")
        return redirect(page_of(kind, target, typed=keep_typed(request.form)), 303)
    try:
        forms.check_saved(text)
    except forms.PayloadTooLarge as exc:
        flash(f"Not saved: {exc}.")
        return redirect(page_of(kind, target, typed=keep_typed(request.form)), 303)
    except forms.PayloadError as exc:
        flash(f"Not saved: the payload is not valid JSON: {exc}.")
        return redirect(page_of(kind, target, typed=keep_typed(request.form)), 303)
    if request.form.get("shared") == "1":
        return shared.share_new(kind, target, name, text)
    existing = {p["name"] for p in userdata().payloads(g.user["sub"], kind, target)}
    if name in existing and request.form.get("replace") != "yes":
        # Ask first, on a page of its own (GET): Back and reload never post again, and what
        # was typed waits server-side for "Keep the old one".
        typed_id = keep_typed(request.form)
        return redirect(url_for("history.confirm_replace", typed_id=typed_id), 303)
    userdata().save_payload(g.user["sub"], kind, target, name, text)
    flash(f"Saved the payload as “{name}”.")
    return redirect(page_of(kind, target, saved=name), 303)


@bp.get("/payloads/replace/<typed_id>")
@login_required
def confirm_replace(typed_id):
    """Ask before saving over a payload of the same name; keeping it brings the form back."""
    fields = typed_fields(typed_id)
    if fields is None:
        flash("That question has expired: save the payload again.")
        return redirect(url_for("history.payloads"), 303)
    form = dict(fields)
    kind, target = target_of(form) or abort(400)
    return render_template(
        "history/confirm.html",
        action="replace",
        kind=kind,
        target=target,
        name=form.get("name", ""),
        payload=forms.typed(form.get("payload", "")),
        back=page_of(kind, target, typed=typed_id),
    )


@bp.get("/payloads/delete")
@login_required
def confirm_delete():
    """Ask before deleting a saved payload."""
    kind, target = target_of(request.args) or abort(400)
    name = request.args.get("name", "")
    back = request.referrer if is_ours(request.referrer) else page_of(kind, target)
    return render_template(
        "history/confirm.html", action="delete", kind=kind, target=target, name=name, back=back
    )


def is_ours(url):
    """Tell whether a Referer is a page of this app (a path on this host), to go back to."""
    return bool(url) and url.startswith(request.host_url)


@bp.post("/payloads/delete")
@login_required
def delete_payload():
    """Delete a saved payload."""
    kind, target = target_of(request.form) or abort(400)
    name = request.form.get("name", "")
    if userdata().delete_payload(g.user["sub"], kind, target, name):
        flash(f"Deleted the saved payload “{name}”.")
    if request.form.get("back") == "payloads":
        return redirect(url_for("history.payloads"), 303)
    return redirect(page_of(kind, target), 303)


@bp.get("/payloads/export")
@login_required
def export_payloads():
    """Download this user's saved payloads as JSON, to keep in git."""
    items = [
        {"kind": p["kind"], "target": p["target"], "name": p["name"], "payload": p["payload"]}
        for p in userdata().payloads(g.user["sub"])
    ]
    items += shared.exported_payloads()
    exported = {"savedPayloads": items, "exportedAt": iso_time(time.time())}
    return download(exported, "payloads.json")


@bp.post("/payloads/import")
@login_required
def import_payloads():
    """Add saved payloads from an exported JSON file; bad entries are reported, not saved."""
    upload = request.files.get("file")
    try:
        # Too-deep values are cut before parsing: json recurses once per level.
        data = json.loads(forms.flatten_deep(upload.read().decode())) if upload else None
        items = data["savedPayloads"]
        if not isinstance(items, list) or len(items) > MAX_IMPORT:
            raise ValueError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        flash("That file is not a saved-payloads export (a JSON file from Export).")
        return redirect(url_for("history.payloads"), 303)
    checked, problems, to_share = [], [], []
    for number, item in enumerate(items, 1):
        try:
            valid = valid_import(item)
        except ValueError as exc:
            problems.append(f"entry {number} {exc}")
            continue
        (to_share if item.get("shared") is True else checked).append(valid)
    if not sort_import(checked)[1]:
        return finish(checked, problems, to_share=to_share)
    # Same names, other payloads: ask first. The checked file waits server-side, and the
    # question is its own page (GET), so Back and reload never post the file again.
    pending_id = secrets.token_urlsafe(12)
    pending = {"items": checked, "problems": problems, "shared": to_share}
    current_app.extensions["store"].set(pending_key(pending_id), pending, PENDING_IMPORT_TTL)
    return redirect(url_for("history.confirm_import", pending_id=pending_id), 303)


def pending_key(pending_id):
    return f"payload-import:{g.user['sub']}:{pending_id}"


def sort_import(items):
    """Split imported items into new names, names saved with another payload, and the rest."""
    sub = g.user["sub"]
    saved = {(p["kind"], p["target"], p["name"]): p["payload"] for p in userdata().payloads(sub)}
    added = [item for item in items if tuple(item[:3]) not in saved]
    clashing = [item for item in items if saved.get(tuple(item[:3]), item[3]) != item[3]]
    return added, clashing, len(items) - len(added) - len(clashing)


def listed(items):
    """Name a few payloads: “a”, “b” and 3 more."""
    names = [f"“{item[2]}”" for item in items[:MAX_PROBLEMS_SHOWN]]
    more = len(items) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


def finish(items, problems, keep=False, to_share=()):
    """Save imported payloads (not those replacing saved ones if `keep`) and share those
    marked shared; say what happened."""
    added, clashing, same = sort_import(items)
    # Every entry is checked before any is written, and they are written together.
    written = added if keep else added + clashing
    userdata().save_payloads(g.user["sub"], [tuple(item) for item in written])
    refused = shared.import_payloads([tuple(item) for item in to_share])
    problems = problems + refused
    said = [f"Added {counted(len(added), 'saved payload')}" + (": " if added else "")]
    said[0] += listed(added)
    if clashing:
        verb = "kept your saved" if keep else "replaced"
        said.append(f"{verb} {counted(len(clashing), 'payload')} of that name: {listed(clashing)}")
    if same:
        said.append(f"{counted(same, 'payload')} already saved as it is")
    if len(to_share) > len(refused):
        said.append(f"shared {counted(len(to_share) - len(refused), 'payload')} with the team")
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > len(shown):
            shown.append(f"and {len(problems) - len(shown)} more")
        said.append(f"skipped {len(problems)} invalid: " + "; ".join(shown))
    flash("; ".join(said) + ".")
    return redirect(url_for("history.payloads"), 303)


@bp.get("/payloads/import/<pending_id>")
@login_required
def confirm_import(pending_id):
    """Ask whether imported payloads replace saved ones of the same name."""
    pending = current_app.extensions["store"].get(pending_key(pending_id))
    if pending is None:
        flash("That import is done or has expired: import the file again to see it.")
        return redirect(url_for("history.payloads"), 303)
    added, clashing, same = sort_import(pending["items"])
    return render_template(
        "history/import.html",
        pending_id=pending_id,
        added=added,
        clashing=clashing,
        same=same,
        problems=pending["problems"],
    )


@bp.post("/payloads/import/<pending_id>")
@login_required
def finish_import(pending_id):
    """Import what the confirmation page chose: replace the saved payloads, or keep them."""
    choice = request.form.get("choice")
    if choice not in ("replace", "keep"):
        abort(400)
    store = current_app.extensions["store"]
    pending = store.get(pending_key(pending_id))
    if pending is None:
        flash("That import is done or has expired: import the file again to see it.")
        return redirect(url_for("history.payloads"), 303)
    store.delete(pending_key(pending_id))
    return finish(
        pending["items"], pending["problems"], keep=choice == "keep", to_share=pending["shared"]
    )


def valid_import(item):
    """Return (kind, target, name, payload) for a good item; ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("is not an object")
    if json.dumps(forms.TOO_DEEP) in json.dumps(item):
        raise ValueError(f"nests deeper than {forms.MAX_DEPTH} levels")
    where = target_of(item)
    if where is None:
        raise ValueError("names no function UUID or event id")
    name = forms.check_name(item.get("name"))
    if name is None:
        raise ValueError(
            "needs a name of 1 to 80 characters, without control characters or lone surrogates"
        )
    payload = item.get("payload")
    if not isinstance(payload, str):
        raise ValueError(f"({name}) has no payload text")
    try:
        forms.check_saved(payload)
    except forms.PayloadError as exc:
        raise ValueError(f"({name}): the payload is not valid JSON: {exc}") from None
    return (*where, name, payload)


@bp.get("/payloads")
@login_required
def payloads():
    """List every saved payload, with export and import."""
    items = userdata().payloads(g.user["sub"])
    names = {e["target"]: e.get("name") for e in userdata().invocations(g.user["sub"])}
    for item in items:
        item["page"] = page_of(item["kind"], item["target"], saved=item["name"])
        item["title"] = names.get(item["target"]) or function_name(item)
    return render_template("history/payloads.html", items=items)


def function_name(item):
    """Return a saved payload's function name from the account's list, if it can be listed."""
    if item["kind"] != "function":
        return item["target"]
    try:
        listed = gateway.functions()
    except FaaSError:
        return None
    return next((f["name"] for f in listed if f["uuid"] == item["target"]), None)
