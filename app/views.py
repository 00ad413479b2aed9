"""The pages of the signed-in app."""

import functools
import re
import time

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from markupsafe import Markup
from markupsafe import escape

from app.auth import flow
from app.auth import tokens
from app.auth.views import login_required

bp = Blueprint("views", __name__)

# Links most pages have (header, assets, the invoke form), by name: endpoint and arguments.
LINKS = {
    "home": ("views.index", {}),
    "functions": ("console.functions", {}),
    "events": ("console.events", {}),
    "history": ("history.index", {}),
    "payloads": ("history.payloads", {}),
    "save_payload": ("history.save_payload", {}),
    "suites": ("suites.index", {}),
    "environments": ("environments.index", {}),
    "flow": ("views.flow_record", {}),
    "check": ("admin.check", {}),
    "login": ("auth.login", {}),
    "logout": ("auth.logout", {}),
    "favicon": ("static", {"filename": "favicon.svg"}),
    "style": ("static", {"filename": "style.css"}),
    "script": ("static", {"filename": "console.js"}),
    "htmx": ("static", {"filename": "htmx-2.0.11.min.js"}),
}


@bp.app_context_processor
def links():
    """Give templates the header's links, built once per script root rather than per page."""
    return {"links": links_under(request.script_root)}


@bp.app_template_filter("counted")
def counted(number, noun):
    """Say how many of a thing: "1 case", "2 cases"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@bp.app_template_filter("breakable")
def breakable(text):
    """Let an id break after _ . - / (never mid-word), as a table cell narrows."""
    return Markup(re.sub(r"([_./-])", r"\1<wbr>", str(escape(text))))


@functools.lru_cache(maxsize=8)
def links_under(script_root):
    # Called inside a request under this script root, whose url_for adds it to each link.
    return {name: url_for(endpoint, **values) for name, (endpoint, values) in LINKS.items()}


@bp.get("/")
def index():
    """Say what this is, or who is signed in, where, and when the token is next refreshed."""
    if g.user is None:
        # LP_DEMO_MODE only decides which way of signing in is the main button.
        return render_template(
            "index.html",
            step_by_step_first=current_app.config["LP_DEMO_MODE"],
            sandbox=current_app.config["SANDBOX_MODE"],
        )
    record = tokens.current(session["token_key"])
    found = flow.load(session["token_key"]) or {}
    config = current_app.config
    return render_template(
        "home.html",
        account_id=config["LP_ACCOUNT_ID"],
        sandbox=config["SANDBOX_MODE"],
        domains=current_app.extensions["resolver"].resolved(),
        refresh_in=max(0, int(tokens.refresh_at(record) - time.time())),
        refresh_at=tokens.refresh_at(record),
        expiry_source=record["expiry_source"],
        last_refresh=(found.get("refreshes") or [None])[-1],
        may_not_invoke=session.get("may_not_invoke"),
    )


@bp.post("/token/refresh")
@login_required
def refresh_now():
    """Refresh the access token now, and say how it went."""
    key = session["token_key"]
    before = tokens.load(key) or {}
    try:
        record = tokens.refresh(key, force=True, why="you pressed Refresh now")
    except tokens.RefreshFailed as exc:
        flash(f"The refresh failed: {exc}. You are still signed in; try again in a moment.")
    else:
        rotated = record.get("refresh_token") != before.get("refresh_token")
        flash(
            "Refreshed: a new access token"
            + (", and Sentinel rotated the refresh token." if rotated else ".")
        )
    return redirect(url_for("views.index"), 303)


@bp.get("/flow")
@login_required
def flow_record():
    """Show this sign-in's flow, step by step, beside a sequence diagram."""
    found = flow.load(session["token_key"]) or {}
    return render_template(
        "flow/record.html", flow=found, diagram=flow.diagram(found), final=False
    )
