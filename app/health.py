"""Liveness and readiness for load balancers; neither reveals configuration."""

from flask import Blueprint
from flask import current_app
from flask import jsonify

from liveperson_functions.discovery import DiscoveryError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say the process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Say whether the store answers and LivePerson's services can be found."""
    extensions = current_app.extensions
    checks = {
        "store": extensions["store"].ping() and extensions["userdata"].ping(),
        "discovery": True,
    }
    try:
        extensions["resolver"].domain("sentinel")
        extensions["resolver"].domain("faasGW")
    except DiscoveryError:
        checks["discovery"] = False
    ready = all(checks.values())
    body = {name: "ok" if ok else "failing" for name, ok in checks.items()}
    return jsonify(status="ready" if ready else "not ready", **body), 200 if ready else 503
