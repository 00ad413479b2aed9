"""Compare two of the user's invocations side by side, or a suite case's expected with got."""

import json

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from app.auth.views import login_required
from app.console.invoke import with_whole
from app.history.userdata import sent_payload
from liveperson_functions.jsondiff import compare as diff

bp = Blueprint("compare", __name__)


def userdata():
    return current_app.extensions["userdata"]


def response_of(entry):
    """Return an entry's response as JSON text; by event, each function's result by UUID."""
    if entry["kind"] != "event" or not entry.get("rows"):
        return entry.get("response") or ""
    results = {}
    for row in entry["rows"]:
        try:
            results[row["uuid"]] = json.loads(row["result"])
        except ValueError:
            results[row["uuid"]] = row["result"]
    return json.dumps(results, indent=2, ensure_ascii=False)


def previous_run(entries, entry):
    """Return the run of the same function or event just before `entry`, or None."""
    older = entries[[e["id"] for e in entries].index(entry["id"]) + 1 :]
    same = (e for e in older if (e["kind"], e["target"]) == (entry["kind"], entry["target"]))
    return next(same, None)


def found_or_404(entries, entry_id):
    """Return the user's entry with this id: another user's is not found, as for entries."""
    return next((e for e in entries if e["id"] == entry_id), None) or abort(404)


@bp.get("/history/compare")
@login_required
def compare():
    """Show two invocations side by side with what differs (B and the run before it first)."""
    if request.args.get("run"):
        return expected_and_got(request.args["run"], request.args.get("case", type=int))
    entries = userdata().invocations(g.user["sub"])
    after = found_or_404(entries, request.args.get("b") or request.args.get("a"))
    if not request.args.get("a") or not request.args.get("b"):
        before = previous_run(entries, after)
        if before is not None:
            return redirect(url_for("compare.compare", a=before["id"], b=after["id"]))
        # Nothing ran before it: the page offers every other entry to pick from.
        return render_template("history/compare.html", b=after, a=None, entries=entries)
    # Whole responses where the history keeps them only in part.
    before, after = with_whole(found_or_404(entries, request.args["a"])), with_whole(after)
    diffs = [
        ("Payload", *diff(sent_payload(before), sent_payload(after))),
        ("Response", *diff(response_of(before), response_of(after))),
    ]
    return render_template(
        "history/compare.html",
        a=before,
        b=after,
        entries=entries,
        diffs=diffs,
        payloads=[sent_payload(before), sent_payload(after)],
        responses=[response_of(before), response_of(after)],
    )


def expected_and_got(run_id, number):
    """Show what a suite case expected beside what it got, with what differs."""
    found = current_app.extensions["suites"].run(g.user["sub"], run_id)
    results = (found or {}).get("results") or []
    if number is None or not 0 <= number < len(results):
        abort(404)
    case = results[number]
    entry = userdata().invocation(g.user["sub"], case["entry_id"]) if case["entry_id"] else None
    diffs = [(f["what"], *diff(f["expected"], f["got"])) for f in case["failures"]]
    return render_template("history/expected.html", run=found, case=case, entry=entry, diffs=diffs)
