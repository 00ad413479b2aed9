"""faasGW, the invocation gateway: invoke by UUID, invoke by event, isImplemented.

Paths (reference §3.1) are the same in both dialects; V1 callers send `v=1`,
`externalSystem` and `skillId` in the query, V2 callers `skillId` and the `LP-EventSource`
header. Empty query values count as absent (the Node client sends `skillId=`). The body is
`{timestamp, headers: [{key, value}], payload}`; `skillId` narrows invocations by event and
isImplemented, and is ignored for an invocation by UUID.

Logs: when a function wrote logs, an invocation by UUID answers `{"result": …, "logs":
[{level, message, extras, timestamp}]}`, the shape the CLI's remote invoke and the V2 test
invoke give (reference §3.7), which the app's client unwraps; without logs it answers the bare
result, as the documented gateway does. A V1 901 carries the logs as `errorLogs`. An invocation
by event answers the documented `[{uuid, timestamp, result}]`, without logs. When one of several
functions on an event fails, the call fails with the first failure (reference §8 leaves it open).
"""

import datetime
import time

from flask import Blueprint
from flask import jsonify
from flask import request

from . import runtime
from .api import PlatformError
from .api import arg
from .api import platform_call
from .api import sandbox

bp = Blueprint("gateway", __name__, url_prefix="/api/account/<account_id>")


def check_rate():
    """Count an invocation against the account's rate limit; 429 past it."""
    box = sandbox()
    retry_after = box.limiter.acquire(box.settings.account_id)
    if retry_after is not None:
        raise PlatformError(
            "rate-limited",
            f"Too many invocations: at most {box.settings.rate_limit} per second per account.",
            retry_after=retry_after,
        )


def invocation_input():
    """The function's input `{timestamp, headers, payload}`, from the body; 400 if malformed."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or body.get("payload") is None:
        raise PlatformError(
            "badinput", "The body must be a JSON object {timestamp, headers, payload}."
        )
    headers = body.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, dict) for h in headers):
        raise PlatformError("badinput", "headers must be a list of {key, value} objects.")
    timestamp = body.get("timestamp", int(time.time() * 1000))
    return {"timestamp": timestamp, "headers": headers, "payload": body["payload"]}


def reach(functions):
    """Fail like an unreliable upstream: flaky functions are unreachable a share of the time."""
    box = sandbox()
    if any(f.flaky for f in functions) and box.rng.random() < box.settings.flaky_share:
        raise PlatformError("general", "Bad gateway: the function could not be reached.")


def failed(outcome):
    return PlatformError(outcome.failure, outcome.message, logs=outcome.logs)


def iso(timestamp):
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@bp.post("/lambdas/<uuid>/invoke")
@platform_call("invoke", action="invoke")
def invoke(uuid):
    """Run one function by UUID and answer its result."""
    box = sandbox()
    check_rate()
    data = invocation_input()
    function = box.catalogue.get(uuid)
    account = box.settings.account_id
    if function is None:
        raise PlatformError("missing", f"There is no {uuid} deployed on {account}")
    if not function.invocable:
        raise PlatformError("notdeployed", f"Function {uuid} is not deployed on {account}")
    reach([function])
    outcome = runtime.run(function.handler, data, box.settings.execution_limit)
    if outcome.failure:
        raise failed(outcome)
    if outcome.logs:
        return jsonify(result=outcome.result, logs=outcome.logs)
    return jsonify(outcome.result)


@bp.post("/events/<event_id>/invoke")
@platform_call("invoke_event", action="invoke")
def invoke_event(event_id):
    """Run every invocable function on the event (for the skill) side by side."""
    box = sandbox()
    check_rate()
    data = invocation_input()
    functions = box.catalogue.on_event(event_id, arg("skillId"))
    reach(functions)
    handlers = [f.handler for f in functions]
    outcomes = runtime.run_all(handlers, data, box.settings.execution_limit)
    for outcome in outcomes:
        if outcome.failure:
            raise failed(outcome)
    return jsonify(
        [
            {"uuid": f.uuid, "timestamp": iso(o.finished_at), "result": o.result}
            for f, o in zip(functions, outcomes, strict=True)
        ]
    )


@bp.get("/events/<event_id>/isImplemented")
@platform_call("is_implemented")
def is_implemented(event_id):
    """Tell whether an invocable function implements the event (for the skill)."""
    implemented = bool(sandbox().catalogue.on_event(event_id, arg("skillId")))
    return jsonify(implemented=implemented)
