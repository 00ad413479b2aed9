"""Payloads and suites shared with the account: share, open, change, unshare, delete, copy."""

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from app.auth.views import login_required
from app.console import forms
from app.suites.store import new_id
from app.workspace import access
from liveperson_functions.suites import MAX_SUITES

bp = Blueprint("shared", __name__)


def userdata():
    return current_app.extensions["userdata"]


def suites():
    return current_app.extensions["suites"]


@bp.app_template_global("shared_link")
def link(record):
    """Return the page of a workspace item."""
    if record["kind"] == "payload":
        return url_for("shared.payload", item_id=record["id"])
    if record["kind"] == "suite":
        return url_for("suites.show", suite_id=record["id"])
    return url_for("environments.show", env_id=record["id"])


@bp.app_template_global()
def copy_link(record):
    """Return where a workspace item is copied to the user's own."""
    if record["kind"] == "environment":
        return url_for("environments.copy", env_id=record["id"])
    return url_for(f"shared.copy_{record['kind']}", item_id=record["id"])


def invoke_page(doc, **params):
    """Return the invoke page of a payload's function or event."""
    if doc["kind"] == "function":
        return url_for("console.function", uuid=doc["target"], **params)
    return url_for("console.event", event_id=doc["target"], **params)


@bp.app_template_global()
def shared_payloads(kind, target):
    """The shared payloads the invoke form of a function or event offers."""
    return [
        r
        for r in access.shared_items("payload")
        if (r["doc"]["kind"], r["doc"]["target"]) == (kind, target)
    ]


def shared_payload_text(kind, target, item_id):
    """Return a shared payload's text for the invoke form, or None."""
    record = access.find("payload", item_id) if item_id else None
    if (
        record
        and record["shared"]
        and (record["doc"]["kind"], record["doc"]["target"])
        == (
            kind,
            target,
        )
    ):
        return record["doc"]["payload"]
    return None


def share_new(kind, target, name, text):
    """Save a payload straight into the account's shared ones (POST /payloads with shared=1)."""
    taken = any(r["doc"]["name"] == name for r in shared_payloads(kind, target))
    back = invoke_page({"kind": kind, "target": target})
    if taken:
        flash(
            f"Not saved: a payload shared with the account is already called “{name}” here. "
            "Open it to change it, or choose another name."
        )
        return redirect(back, 303)
    doc = {"name": name, "kind": kind, "target": target, "payload": text}
    record = access.add("payload", doc, shared=True)
    flash(f"Saved the payload as “{name}”, shared with the account.")
    return redirect(invoke_page(doc, shared=record["id"]), 303)


def exported_payloads():
    """Return the user's own shared payloads as export entries marked "shared": true."""
    return [
        {**{k: r["doc"][k] for k in ("kind", "target", "name", "payload")}, "shared": True}
        for r in access.shared_items("payload")
        if r["owner"] == g.user["sub"]
    ]


def import_payloads(items):
    """Share checked (kind, target, name, payload) imports; return what was refused."""
    # One of the same name is replaced when the user may change it.
    refused = []
    for kind, target, name, text in items:
        doc = {"name": name, "kind": kind, "target": target, "payload": text}
        same = [r for r in shared_payloads(kind, target) if r["doc"]["name"] == name]
        if not same:
            access.add("payload", doc, shared=True)
        elif access.may_change(same[0]):
            access.change(same[0], same[0]["version"], doc)
        else:
            refused.append(f"({name}) is shared by {same[0]['owner_name']}, who may replace it")
    return refused


@bp.post("/payloads/share")
@login_required
def share_payload():
    """Share one of the user's saved payloads with the account (it moves there)."""
    kind, target, name = (request.form.get(k, "") for k in ("kind", "target", "name"))
    found = next(
        (p for p in userdata().payloads(g.user["sub"], kind, target) if p["name"] == name), None
    )
    if found is None:
        flash("That saved payload is not there any more.")
        return redirect(url_for("history.payloads"), 303)
    if any(r["doc"]["name"] == name for r in shared_payloads(kind, target)):
        flash(f"Not shared: a payload shared with the account is already called “{name}” here.")
        return redirect(url_for("history.payloads"), 303)
    doc = {"name": name, "kind": kind, "target": target, "payload": found["payload"]}
    record = access.add("payload", doc, shared=True)
    userdata().delete_payload(g.user["sub"], kind, target, name)
    flash(f"Shared “{name}” with the account.")
    return redirect(url_for("shared.payload", item_id=record["id"]), 303)


@bp.get("/shared/payloads/<item_id>")
@login_required
def payload(item_id):
    """Show a shared payload; its owner and admins may change it here."""
    record = access.visible("payload", item_id)
    return payload_page(record, record["doc"]["name"], record["doc"]["payload"], None)


def payload_page(record, name, text, error, status=200):
    return render_template(
        "workspace/payload.html",
        record=record,
        name=name,
        text=text,
        error=error,
        may_change=access.may_change(record),
        use=invoke_page(record["doc"], shared=record["id"]),
    ), status


@bp.post("/shared/payloads/<item_id>")
@login_required
def save_payload(item_id):
    """Change, rename or unshare a shared payload, if nobody saved it meanwhile."""
    record = access.changeable("payload", item_id)
    name = forms.check_name(request.form.get("name"))
    text = request.form.get("payload", "")
    version = request.form.get("version", type=int) or 0
    if name is None:
        error = "Give the payload a name of 1 to 80 characters."
        return payload_page(record, "", text, error, 400)
    try:
        forms.check_saved(text)
    except forms.PayloadError as exc:
        return payload_page(record, name, text, f"Not saved: {exc}.", 400)
    doc = {**record["doc"], "name": name, "payload": text}
    if request.form.get("shared") == "1":
        access.change(record, version, doc)
        flash(f"Saved “{name}”.")
        return redirect(url_for("shared.payload", item_id=item_id), 303)
    return unshare_payload(record, version, doc)


def unshare_payload(record, version, doc):
    """Give a shared payload back to its owner's own saved payloads."""
    owner = record["owner"]
    if any(
        p["name"] == doc["name"] for p in userdata().payloads(owner, doc["kind"], doc["target"])
    ):
        flash(
            f"Not unshared: {record['owner_name'] or 'its owner'} already has a payload called "
            f"“{doc['name']}” here. Rename one first."
        )
        return redirect(url_for("shared.payload", item_id=record["id"]), 303)
    # The version check first: unsharing from an old page is refused like any save.
    access.give_back(record, version, doc)
    userdata().save_payload(owner, doc["kind"], doc["target"], doc["name"], doc["payload"])
    flash(f"“{doc['name']}” is no longer shared; it is back among its owner's saved payloads.")
    return redirect(url_for("history.payloads"), 303)


@bp.post("/shared/payloads/<item_id>/delete")
@login_required
def delete_payload(item_id):
    record = access.changeable("payload", item_id)
    access.remove(record)
    flash(f"Deleted the shared payload “{record['doc']['name']}”.")
    return redirect(url_for("history.payloads"), 303)


@bp.post("/shared/payloads/<item_id>/copy")
@login_required
def copy_payload(item_id):
    """Copy a shared payload to the user's own saved payloads."""
    doc = access.visible("payload", item_id)["doc"]
    mine = {p["name"] for p in userdata().payloads(g.user["sub"], doc["kind"], doc["target"])}
    name = doc["name"] if doc["name"] not in mine else f"{doc['name']} (copy)"[:80]
    if name in mine:
        flash(f"You already have a payload called “{name}” here; rename it first.")
        return redirect(url_for("shared.payload", item_id=item_id), 303)
    userdata().save_payload(g.user["sub"], doc["kind"], doc["target"], name, doc["payload"])
    flash(f"Copied to your saved payloads as “{name}”.")
    return redirect(invoke_page(doc, saved=name), 303)


@bp.post("/suites/<suite_id>/share")
@login_required
def share_suite(suite_id):
    """Share one of the user's suites with the account (it moves there, keeping its id)."""
    found = suites().suite(g.user["sub"], suite_id)
    if found is None:
        return redirect(url_for("suites.show", suite_id=suite_id), 303)
    doc = {"name": found["name"], "cases": found["cases"]}
    access.add("suite", doc, shared=True, item_id=suite_id)
    suites().delete_suite(g.user["sub"], suite_id, keep_runs=True)
    flash(f"Shared “{found['name']}” with the account.")
    return redirect(url_for("suites.show", suite_id=suite_id), 303)


@bp.post("/suites/<suite_id>/unshare")
@login_required
def unshare_suite(suite_id):
    """Give a shared suite back to its owner's own suites."""
    record = access.changeable("suite", suite_id)
    version = request.form.get("version", type=int) or 0
    access.give_back(record, version)
    suites().save_suite(record["owner"], suite_id, record["doc"])
    flash(f"“{record['doc']['name']}” is no longer shared.")
    return redirect(url_for("suites.index"), 303)


@bp.post("/shared/suites/<item_id>/copy")
@login_required
def copy_suite(item_id):
    """Copy a shared suite to the user's own suites."""
    doc = access.visible("suite", item_id)["doc"]
    if len(suites().suites(g.user["sub"])) >= MAX_SUITES:
        flash(f"You have {MAX_SUITES} suites already; delete one first.")
        return redirect(url_for("suites.show", suite_id=item_id), 303)
    new = new_id()
    suites().save_suite(g.user["sub"], new, {"name": doc["name"], "cases": doc["cases"]})
    flash(f"Copied “{doc['name']}” to your suites.")
    return redirect(url_for("suites.show", suite_id=new), 303)
