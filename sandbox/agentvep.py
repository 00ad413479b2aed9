"""agentVep's login, which gives a user bearer (how the official clients' tests sign in)."""

import secrets

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

bp = Blueprint("agentvep", __name__)


@bp.post("/api/account/<account_id>/login")
def login(account_id):
    """Check a user's password and return a bearer for the gateway and faasUI."""
    sandbox = current_app.extensions["sandbox"]
    if account_id != sandbox.settings.account_id:
        abort(401)
    body = request.get_json(silent=True) or {}
    user = sandbox.directory.check_password(body.get("username"), body.get("password"))
    if user is None:
        return jsonify(error="Bad credentials"), 401
    bearer = secrets.token_hex(32)
    with sandbox.state.lock:
        sandbox.state.bearers[bearer] = user
    sandbox.state.record("agentvep_login", {"username": user.login_name})
    return jsonify(
        bearer=bearer,
        csrf=secrets.token_hex(8),
        sessionId=secrets.token_hex(8),
        config={"userId": user.user_id, "loginName": user.login_name},
    )
