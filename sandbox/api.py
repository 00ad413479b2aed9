"""What the gateway and faasUI share: authorization, the dialect's errors, request ids, records.

Error bodies follow the sandbox's dialect (reference §5): V1 `{errorCode, errorMsg, errorLogs?}`,
V2 `{code, message}`. LivePerson documents no body for 401, 403, 429 or an unknown path
(reference §9), so those answer `{"message": …}` in both dialects, as an edge proxy would.
"""

import functools
import uuid as uuidlib

from flask import current_app
from flask import jsonify
from flask import make_response
from flask import request

# kind: (HTTP status, V1 errorCode, V2 code); no code means a bare {"message"} body.
ERRORS = {
    "badinput": (400, "com.liveperson.faas.es.badinput", "com.liveperson.faas.evg.invalid"),
    "unauthorized": (401, None, None),
    "forbidden": (403, None, None),
    "not-found": (404, None, None),
    "missing": (
        404,
        "com.liveperson.faas.es.missinglambda",
        "com.liveperson.faas.function.not-found",
    ),
    # V2 has no "not deployed" code; its gateway answers 404 not-found for such functions.
    "notdeployed": (
        404,
        "com.liveperson.faas.es.notdeployed",
        "com.liveperson.faas.function.not-found",
    ),
    "rate-limited": (429, None, None),
    "general": (502, "com.liveperson.faas.es.general", "com.liveperson.faas.evg.general"),
    "custom-failure": (
        901,
        "com.liveperson.faas.handler.custom-failure",
        "com.customer.faas.function.threw-error",
    ),
    "runtime-exception": (
        901,
        "com.liveperson.faas.handler.runtime-exception",
        "com.customer.faas.function.js-runtime-error",
    ),
    "executiontime-exceeded": (
        901,
        "com.liveperson.faas.handler.executiontime-exceeded",
        "com.customer.faas.function.execution-exceeded",
    ),
}
# What a call records of its headers; of Authorization only the scheme, never the token.
RECORDED_HEADERS = ("X-Request-ID", "LP-EventSource", "User-Agent", "Content-Type")
REQUEST_ID_MAX = 128


class PlatformError(Exception):
    """An error answer of the gateway or faasUI, rendered in the sandbox's dialect."""

    def __init__(self, kind, message, logs=(), retry_after=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.logs = list(logs)
        self.retry_after = retry_after

    def response(self, dialect):
        """The HTTP answer: status, body and headers."""
        status, v1_code, v2_code = ERRORS[self.kind]
        if v1_code is None:
            body = {"message": self.message}
        elif dialect == "v1":
            body = {"errorCode": v1_code, "errorMsg": self.message}
            if self.logs:
                body["errorLogs"] = self.logs
        else:
            body = {"code": v2_code, "message": self.message}
        response = make_response(jsonify(body), status)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


def sandbox():
    return current_app.extensions["sandbox"]


def arg(name):
    """A query value, with an empty one (Node's `skillId=`) counting as absent."""
    return request.args.get(name) or None


def args(name):
    """Every non-empty value of a repeatable query parameter."""
    return [value for value in request.args.getlist(name) if value]


def authorize(principal, apps, action, bad_bearer="unauthorized"):
    """Refuse a call without a valid bearer (401; a wrong one as `bad_bearer` says), from an app
    where apps may not, or without the permission `action` ("read" or "invoke") needs."""
    if principal is None:
        kind = bad_bearer if request.headers.get("Authorization") else "unauthorized"
        raise PlatformError(kind, "Missing or invalid bearer token for this account.")
    if principal.kind == "app" and not apps:
        raise PlatformError(
            "forbidden",
            "App tokens (client credentials) cannot list functions; use a user's bearer.",
        )
    if principal.kind != "user":
        return
    user = principal.user
    if action == "invoke" and not user.can_invoke():
        raise PlatformError(
            "forbidden",
            f"User {user.login_name} may not invoke functions: that needs FaaS-Invocation or "
            "FaaS-Developer (FaaS-Admin may read functions but not invoke them).",
        )
    if action == "read" and not user.can_read():
        raise PlatformError(
            "forbidden",
            f"User {user.login_name} may not read functions: that needs FaaS-Invocation, "
            "FaaS-Developer or FaaS-Admin.",
        )


def platform_call(endpoint, apps=True, action="read", bad_bearer="unauthorized"):
    """Make a view a gateway or faasUI call: check account and bearer, render errors, record."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(account_id, **values):
            box = sandbox()
            principal = None
            try:
                if account_id != box.settings.account_id:
                    raise PlatformError("unauthorized", f"Unknown account {account_id}.")
                principal = box.state.authenticate(request.headers.get("Authorization"))
                authorize(principal, apps, action, bad_bearer)
                response = make_response(view(**values))
            except PlatformError as error:
                response = error.response(box.settings.dialect)
            incoming = request.headers.get("X-Request-ID", "")[:REQUEST_ID_MAX]
            response.headers["X-Request-ID"] = incoming or str(uuidlib.uuid4())
            box.state.record(endpoint, describe(account_id, values, principal, response))
            return response

        return wrapper

    return decorate


def describe(account_id, values, principal, response):
    """What reached the gateway or faasUI, for tests and demos (no secrets)."""
    headers = {name: request.headers[name] for name in RECORDED_HEADERS if name in request.headers}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"].partition(" ")[0]
    who = None
    if principal is not None:
        who = f"app:{principal.client_id}" if principal.kind == "app" else None
        who = who or f"user:{principal.user.login_name}"
    return {
        "account": account_id,
        # Named as in the protocol: {uuid} and {eventId}.
        **{"eventId" if k == "event_id" else k: v for k, v in values.items()},
        "method": request.method,
        "path": request.path,
        "query": request.args.to_dict(flat=False),
        # The documented user-token calls carry the token owner's id (reference §3.1).
        "userId": request.args.get("userId"),
        "headers": headers,
        "body": request.get_json(force=True, silent=True) if request.method == "POST" else None,
        "principal": who,
        "status": response.status_code,
    }
