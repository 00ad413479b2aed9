"""The pages of the signed-in app."""

import time

from flask import Blueprint
from flask import current_app
from flask import g
from flask import render_template
from flask import session

from . import tokens

bp = Blueprint("views", __name__)


@bp.get("/")
def index():
    """Say what this is, or who is signed in, where, and when the token is next refreshed."""
    if g.user is None:
        return render_template("index.html")
    record = tokens.current(session["token_key"])
    config = current_app.config
    return render_template(
        "home.html",
        account_id=config["LP_ACCOUNT_ID"],
        sandbox=config["SANDBOX_MODE"],
        domains=current_app.extensions["resolver"].resolved(),
        refresh_in=max(0, int(tokens.refresh_at(record) - time.time())),
        refresh_at=tokens.refresh_at(record),
        expiry_source=record["expiry_source"],
    )
