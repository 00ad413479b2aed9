"""CSDS, LivePerson's domain service: where each service of the account lives."""

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import jsonify

bp = Blueprint("csds", __name__, url_prefix="/api/account/<account_id>/service")


def domains(account_id):
    sandbox = current_app.extensions["sandbox"]
    if account_id != sandbox.settings.account_id:
        abort(404)
    return sandbox.settings.domains()


@bp.get("/baseURI.json")
def all_services(account_id):
    """List every service's host for the account."""
    entries = [
        {"service": name, "account": account_id, "baseURI": domain}
        for name, domain in domains(account_id).items()
    ]
    return jsonify(baseURIs=entries)


@bp.get("/<service>/baseURI.json")
def one_service(account_id, service):
    """Give one service's host for the account."""
    domain = domains(account_id).get(service) or abort(404)
    return jsonify(service=service, account=account_id, baseURI=domain)
