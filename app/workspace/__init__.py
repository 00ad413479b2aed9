"""The team's workspace: environments and variables; payloads and suites shared with all."""

import json

from flask import render_template
from flask import request

from app import errors
from app.workspace import access
from app.workspace import environments
from app.workspace import shared
from app.workspace.access import NotAllowed
from app.workspace.store import Conflict
from app.workspace.store import open_workspace


def init_app(app):
    app.extensions["workspace"] = open_workspace(app.extensions["store"], app.instance_path)
    access.init_app(app)
    app.register_blueprint(environments.bp)
    app.register_blueprint(shared.bp)
    app.register_error_handler(NotAllowed, not_allowed)
    app.register_error_handler(Conflict, conflict)


def not_allowed(error):
    return errors.page(403, str(error), title="Not yours to change")


def conflict(error):
    """Refuse a save made from an old version, showing the version saved meanwhile."""
    current = error.current
    doc = current["doc"]
    if current["kind"] == "environment":
        doc = environments.shown(doc)
    theirs = doc.get("payload") if current["kind"] == "payload" else None
    if theirs is None:
        theirs = json.dumps(doc, indent=2, ensure_ascii=False)
    typed = request.form.get("payload") or request.form.get("suite") or ""
    return render_template(
        "workspace/conflict.html",
        record=current,
        theirs=theirs,
        typed=typed,
        typed_version=request.form.get("version", ""),
        link=shared.link(current),
    ), 409
