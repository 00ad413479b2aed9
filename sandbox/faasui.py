"""faasUI's function list: V1 `lambdas` (with or without the trailing slash) or V2 `functions`.

Only the sandbox's dialect serves its list; the other answers 404. Filters (reference §3.5,
§3.6): `state` (repeatable; an unknown state is a 400), `eventId` and the name (`name` in V1;
`functionName`, or the Java client's `name`, in V2), the last two as substrings of any case.
`v` and `externalSystem` are accepted and ignored; `userId` is recorded, not checked
(LivePerson documents no check). Like the platform, faasUI refuses
app (client-credentials) tokens with 403: listing needs a user's bearer. A wrong or expired
bearer gets 403 too, not the gateway's 401 (LivePerson's Node client tests,
`getFunctions.v2.test.ts`: "403 for a wrong bearer").
"""

from flask import Blueprint
from flask import jsonify

from .api import PlatformError
from .api import arg
from .api import args
from .api import platform_call
from .api import sandbox
from .catalogue import STATES

bp = Blueprint("faasui", __name__, url_prefix="/api/account/<account_id>")


def listing(dialect, name):
    """The catalogue filtered by the query, in the dialect's item shape; 404 if not ours."""
    box = sandbox()
    if box.settings.dialect != dialect:
        raise PlatformError("not-found", "Not found.")
    states = args("state")
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise PlatformError(
            "badinput", f"Invalid state {unknown[0]!r}: use one of {', '.join(STATES)}."
        )
    functions = box.catalogue.listing(states, arg("eventId"), name)
    return jsonify([f.v1() if dialect == "v1" else f.v2() for f in functions])


@bp.get("/lambdas")
@bp.get("/lambdas/")
@platform_call("list_functions", apps=False, bad_bearer="forbidden")
def lambdas():
    """List the account's lambdas (V1)."""
    return listing("v1", arg("name"))


@bp.get("/functions")
@platform_call("list_functions", apps=False, bad_bearer="forbidden")
def functions():
    """List the account's functions (V2)."""
    return listing("v2", arg("functionName") or arg("name"))
