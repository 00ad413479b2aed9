"""Test suites: list, edit, run with progress, export and import; add cases from elsewhere."""

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
from flask import session
from flask import url_for

from app.auth.views import login_required
from app.suites import cases
from app.suites import runner
from app.suites.store import new_id
from app.suites.store import open_suites
from app.views import counted
from app.workspace import access
from app.workspace import environments
from liveperson_functions.suites import MAX_CASES
from liveperson_functions.suites import MAX_FILE_BYTES
from liveperson_functions.suites import MAX_SUITES
from liveperson_functions.suites import SuiteError
from liveperson_functions.suites import parse_file
from liveperson_functions.suites import read_suite
from liveperson_functions.suites import read_suites
from liveperson_functions.suites import to_json
from liveperson_functions.variables import Resolver
from liveperson_functions.variables import VariableError
from liveperson_functions.variables import resolve_case

bp = Blueprint("suites", __name__)


def init_app(app):
    app.extensions["suites"] = open_suites(app.extensions["store"], app.instance_path)
    app.register_blueprint(bp)


def store():
    return runner.suites()


def owned(suite_id):
    """Return the user's suite or one shared with the account (record under "shared"), or 404."""
    found = store().suite(g.user["sub"], suite_id)
    if found is not None:
        return found
    record = access.visible("suite", suite_id)
    return {"id": suite_id, **record["doc"], "shared": record}


def suite_of(doc):
    """Return the stored suite as a checked Suite (it was checked when saved)."""
    return read_suite({"name": doc["name"], "cases": doc["cases"]})


def save(suite_id, suite):
    store().save_suite(g.user["sub"], suite_id, to_json(suite))


@bp.get("/suites")
@login_required
def index():
    """List the user's suites, with forms to create and import."""
    return render_template("suites/index.html", suites=store().suites(g.user["sub"]))


@bp.post("/suites")
@login_required
def create():
    """Create an empty suite with the name given."""
    name = (request.form.get("name") or "").strip()
    try:
        suite = read_suite({"name": name, "cases": []})
    except SuiteError:
        flash("Give the suite a name of 1 to 80 characters.")
        return redirect(url_for("suites.index"), 303)
    if len(store().suites(g.user["sub"])) >= MAX_SUITES:
        flash(f"You have {MAX_SUITES} suites already; delete one first.")
        return redirect(url_for("suites.index"), 303)
    suite_id = new_id()
    save(suite_id, suite)
    return redirect(url_for("suites.show", suite_id=suite_id), 303)


@bp.get("/suites/<suite_id>")
@login_required
def show(suite_id):
    """Show a suite's cases, its recent runs, and its JSON for editing."""
    doc = owned(suite_id)
    text = json.dumps({"name": doc["name"], "cases": doc["cases"]}, indent=2, ensure_ascii=False)
    return page(doc, text, [])


def page(doc, text, errors, status=200):
    runs = [runner.current(r) for r in store().runs(g.user["sub"], doc["id"])]
    suite = suite_of(doc)
    return render_template(
        "suites/suite.html",
        doc=doc,
        suite=suite,
        text=text,
        errors=errors,
        runs=runs,
        shared=doc.get("shared"),
        may_change=not doc.get("shared") or access.may_change(doc["shared"]),
    ), status


@bp.post("/suites/<suite_id>/edit")
@login_required
def edit(suite_id):
    """Replace a suite with the JSON typed in; bad entries are named, nothing is saved."""
    doc = owned(suite_id)
    if doc.get("shared"):
        access.changeable("suite", suite_id)
    text = request.form.get("suite", "")
    try:
        suite = read_suite(parse_file(text.encode("utf-8", "surrogatepass")))
    except SuiteError as exc:
        return page(doc, text, [str(exc)], 400)
    if doc.get("shared"):
        version = request.form.get("version", type=int) or 0
        access.change(doc["shared"], version, to_json(suite))
    else:
        save(suite_id, suite)
    flash(f"Saved “{suite.name}” with {counted(len(suite.cases), 'case')}.")
    return redirect(url_for("suites.show", suite_id=suite_id), 303)


@bp.post("/suites/<suite_id>/delete")
@login_required
def delete(suite_id):
    doc = owned(suite_id)
    if doc.get("shared"):
        access.remove(access.changeable("suite", suite_id))
    store().delete_suite(g.user["sub"], suite_id)
    flash(f"Deleted the suite “{doc['name']}”.")
    return redirect(url_for("suites.index"), 303)


@bp.post("/suites/<suite_id>/run")
@login_required
def run(suite_id):
    """Start a run and send the browser to its page, so reloading never runs it again."""
    suite = suite_of(owned(suite_id))
    if not suite.cases:
        flash("This suite has no cases yet.")
        return redirect(url_for("suites.show", suite_id=suite_id), 303)
    busy = next(
        (
            r
            for r in map(runner.current, store().runs(g.user["sub"], suite_id))
            if r["state"] == "running"
        ),
        None,
    )
    if busy:
        flash("This suite is already running; here is that run.")
        return redirect(url_for("suites.show_run", run_id=busy["id"]), 303)
    resolver, environment = environments.resolver(request.form.get("environment"))
    try:
        for case in suite.cases:
            resolve_case(case, resolver or Resolver())
        if resolver is None:
            raise VariableError("that environment is not there any more; choose another")
    except VariableError as exc:
        flash(f"Nothing was run: {exc}.")
        return redirect(url_for("suites.show", suite_id=suite_id), 303)
    name = environment["doc"]["name"] if environment else None
    run_id = runner.start(g.user["sub"], session["token_key"], suite_id, suite, resolver, name)
    return redirect(url_for("suites.show_run", run_id=run_id), 303)


@bp.get("/suites/runs/<run_id>")
@login_required
def show_run(run_id):
    """Show a run's progress (the page reloads itself while it runs) or its results."""
    found = store().run(g.user["sub"], run_id)
    if found is None:
        abort(404)
    found = runner.current(found)
    passed = sum(r["passed"] for r in found["results"])
    return render_template(
        "suites/run.html", run=found, passed=passed, failed=len(found["results"]) - passed
    )


@bp.get("/suites/export")
@login_required
def export():
    """Download every suite as one JSON file, to keep in git or run with the command line."""
    items = [{"name": s["name"], "cases": s["cases"]} for s in store().suites(g.user["sub"])]
    items += [
        {"name": r["doc"]["name"], "cases": r["doc"]["cases"], "shared": True}
        for r in access.shared_items("suite")
        if r["owner"] == g.user["sub"]
    ]
    body = json.dumps(
        {"suites": items, "exportedAt": int(time.time())}, indent=2, ensure_ascii=False
    )
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="suites.json"'},
    )


@bp.post("/suites/import")
@login_required
def import_suites():
    """Add the suites of an exported file; a suite of the same name is replaced."""
    upload = request.files.get("file")
    raw = upload.read(MAX_FILE_BYTES + 1) if upload else b""
    try:
        data = parse_file(raw)
        found, errors = read_suites(data)
    except SuiteError as exc:
        flash(f"Nothing imported: {exc}.")
        return redirect(url_for("suites.index"), 303)
    existing = {s["name"]: s["id"] for s in store().suites(g.user["sub"])}
    room = MAX_SUITES - len(existing)
    for suite in found:
        if suite.name in shared_names(data):
            # Checked like the rest; kept with the account, owned by whoever imports it.
            access.add("suite", to_json(suite), shared=True)
            continue
        if suite.name not in existing and room <= 0:
            errors.append(f"“{suite.name}”: you have {MAX_SUITES} suites already")
            continue
        room -= suite.name not in existing
        save(existing.get(suite.name) or new_id(), suite)
    flash(f"Imported {counted(len(found), 'suite')}.")
    for error in errors[:20]:
        flash(f"Not imported: {error}")
    return redirect(url_for("suites.index"), 303)


def shared_names(data):
    """Return the names of an export's suites marked "shared": true."""
    items = data.get("suites") if isinstance(data, dict) else None
    return {
        item["name"].strip()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
        and item.get("shared") is True
        and isinstance(item.get("name"), str)
    }


@bp.route("/suites/add", methods=["GET", "POST"])
@login_required
def add():
    """Add a case made from a history entry or a saved payload to a suite."""
    sub = g.user["sub"]
    mine = store().suites(sub)
    if request.method != "POST":  # GET or HEAD: only a POST (CSRF-checked) adds
        case = cases.from_request(sub, request.args)
        if case is None:
            abort(404)
        text = json.dumps(case, indent=2, ensure_ascii=False)
        return render_template("suites/add.html", text=text, suites=mine, errors=[])
    text = request.form.get("case", "")
    chosen, new_name = request.form.get("suite_id", ""), request.form.get("new_suite", "")
    try:
        case = cases.read(text)
        suite_id, doc = cases.target_suite(sub, mine, chosen, new_name)
        if len(doc["cases"]) >= MAX_CASES:
            raise SuiteError(f"that suite has {MAX_CASES} cases already")
    except SuiteError as exc:
        return render_template("suites/add.html", text=text, suites=mine, errors=[str(exc)]), 400
    suite = read_suite({"name": doc["name"], "cases": [*doc["cases"], case]})
    save(suite_id, suite)
    flash(f"Added the case to “{suite.name}”.")
    return redirect(url_for("suites.show", suite_id=suite_id), 303)
