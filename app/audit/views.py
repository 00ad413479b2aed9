"""The audit trail for admins: filtered, paged, exported as CSV or JSON; never edited."""

import csv
import functools
import io
import itertools
import json
import time
from calendar import timegm

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask import stream_with_context

from app import metrics
from app.audit import record
from app.audit.store import open_trail
from app.auth.views import login_required
from app.errors import page
from app.workspace.signals import shared_changed

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50
OUTCOMES = {
    "success": "success",
    "function-error": "function failed",
    "platform-error": "platform error",
}
TYPES = {"invocation": "invocations", **record.EVENTS}
TIME_FORMATS = {"%Y-%m-%dT%H:%M": 60, "%Y-%m-%dT%H:%M:%S": 1, "%Y-%m-%d": 24 * 3600}
COLUMNS = (
    "id",
    "at",
    "account",
    "type",
    "user_id",
    "login",
    "by",
    "target",
    "name",
    "token",
    "outcome",
    "status",
    "duration_ms",
    "request_id",
    "suite",
    "payload_bytes",
    "payload_sha256",
    "response_bytes",
    "response_sha256",
    "payload",
    "detail",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def init_app(app):
    userdata = app.extensions["userdata"]
    app.extensions["audit"] = open_trail(userdata, app.config, metrics.AUDIT_FAILURES.inc)
    shared_changed.connect(record.shared_item, app)
    app.register_blueprint(bp)


def admins_only(view):
    """Let LivePerson admins in; anyone else gets a 403 page that says so (and is recorded)."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if not g.user.get("is_admin"):
            record.refused("the audit trail")
            return page(
                403,
                "The audit trail is for LivePerson administrators of this account only. "
                "Ask an administrator if you need to know who invoked what.",
                title="Administrators only",
            )
        return view(**kwargs)

    return login_required(wrapped)


def moment(text, end=False):
    """Read a UTC time from a filter (date, or date and time); the end of it when `end`."""
    for layout, length in TIME_FORMATS.items():
        try:
            start = timegm(time.strptime(text, layout))
        except ValueError:
            continue
        return start + length if end else start
    return None


def read_filters(args):
    """Return the filters as typed, the time range, and what was not understood."""
    typed = {
        name: args.get(name, "").strip()[:200]
        for name in ("user", "what", "outcome", "type", "since", "until")
    }
    since = moment(typed["since"]) if typed["since"] else None
    until = moment(typed["until"], end=True) if typed["until"] else None
    errors = [
        f"{label}: write a UTC date such as 2026-12-07, or a date and time such as "
        "2026-12-07T14:02."
        for label, name, value in (("From", "since", since), ("To", "until", until))
        if typed[name] and value is None
    ]
    return typed, since, until, errors


def matches(found, typed):
    """Tell whether a record passes the user, function/event, outcome and type filters."""
    user, what = typed["user"].lower(), typed["what"].lower()
    if user and user not in (found["user_id"].lower(), found["login"].lower()):
        return False
    target, name = (found.get("target") or "").lower(), (found.get("name") or "").lower()
    if what and what != target and what not in name:
        return False
    if typed["outcome"] and found.get("outcome") != typed["outcome"]:
        return False
    return not typed["type"] or found["type"] == typed["type"]


def selected():
    """Return the records the request's filters select, newest first, and the filters."""
    typed, since, until, errors = read_filters(request.args)
    found = record.trail().records(since, until)
    return (r for r in found if matches(r, typed)), typed, errors


@bp.get("/audit")
@admins_only
def index():
    """Show the account's audit trail, newest first, filtered and paged."""
    found, typed, errors = selected()
    number = max(request.args.get("page", 1, type=int), 1)
    start = (number - 1) * PAGE_SIZE
    shown = list(itertools.islice(found, start, start + PAGE_SIZE + 1))
    filters = {k: v for k, v in typed.items() if v}
    return render_template(
        "audit/index.html",
        records=shown[:PAGE_SIZE],
        more=len(shown) > PAGE_SIZE,
        page=number,
        first=start + 1,
        typed=typed,
        filters=filters,
        errors=errors,
        outcomes=OUTCOMES,
        types=TYPES,
        events=record.EVENTS,
        days=current_app.config["AUDIT_DAYS"],
        payloads=current_app.config["AUDIT_PAYLOADS"],
        account=record.trail().account,
    )


def attachment(body, mimetype, extension):
    name = f"audit-{record.trail().account}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    disposition = f'attachment; filename="{name}.{extension}"'
    return Response(
        stream_with_context(body), mimetype=mimetype, headers={"Content-Disposition": disposition}
    )


def iso(at):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def cell(value):
    """Show a value in a CSV cell, never as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/audit/export.csv")
@admins_only
def export_csv():
    """Download the filtered trail as CSV, one record a row, newest first."""
    found, _typed, _errors = selected()

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for item in found:
            writer.writerow(cell(iso(item["at"]) if c == "at" else item.get(c)) for c in COLUMNS)
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return attachment(rows(), "text/csv", "csv")


@bp.get("/audit/export.json")
@admins_only
def export_json():
    """Download the filtered trail as JSON: the filters, then the records, newest first."""
    found, typed, _errors = selected()
    head = {"account": record.trail().account, "exportedAt": int(time.time()), "filters": typed}

    def parts():
        # The head object, left open for the records streamed after it.
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "records": ['
        for number, item in enumerate(found):
            yield ("," if number else "") + "\n" + json.dumps(item, ensure_ascii=False)
        yield "\n]}\n"

    return attachment(parts(), "application/json", "json")
