"""Plain-language explanations and advice for every documented Functions error code and status."""

_LOGS = "Read the function's logs in the Functions UI (find the request id) to see what it did."

CODES = {
    # V1 platform codes (developer docs, "error codes" page).
    "com.liveperson.faas.es.general": (
        "The Functions gateway hit an unexpected error of its own.",
        "Try again in a moment; if it keeps happening, contact LivePerson support "
        "with the request id.",
    ),
    "com.liveperson.faas.es.unavailable": (
        "The Functions gateway could not reach a system it depends on.",
        "This is usually temporary: wait a little and try again.",
    ),
    "com.liveperson.faas.es.badinput": (
        "The gateway rejected the request: the payload has the wrong format or a required "
        "value is missing.",
        "Check that the payload is valid JSON and has the fields the function expects.",
    ),
    "com.liveperson.faas.es.notdeployed": (
        "The function exists but is not deployed, so it cannot be invoked.",
        "Deploy it in the Functions UI (its state must be Productive or Modified), then "
        "try again.",
    ),
    "com.liveperson.faas.es.missinglambda": (
        "No function with this UUID exists on this account.",
        "Check the UUID and the account id; list the account's functions to find the right UUID.",
    ),
    "com.liveperson.faas.handler.custom-failure": (
        "The function ran and reported an error (it passed an Error to its callback).",
        _LOGS + " Fix the function or the input it was given.",
    ),
    "com.liveperson.faas.handler.runtime-exception": (
        "The function ran and crashed with a runtime exception (for example, reading a "
        "property of undefined).",
        _LOGS + " Fix the bug in the function's code.",
    ),
    "com.liveperson.faas.handler.executiontime-exceeded": (
        "The function ran past its execution-time limit (30 seconds): it never called its "
        "callback, waited on slow calls, or blocked.",
        "Make sure every code path calls the callback, and give the function's own "
        "outbound calls short timeouts.",
    ),
    "com.liveperson.faas.handler.log-limit-reached": (
        "The function wrote more logs than allowed (at most 10 entries and 6000 characters "
        "per invocation).",
        "Log less in the function, or log only on errors.",
    ),
    "com.liveperson.faas.fm.general": (
        "LivePerson's function manager hit an unexpected error.",
        "Try again later; if it persists, contact LivePerson support with the request id.",
    ),
    "com.liveperson.faas.fm.unavailable": (
        "LivePerson's function manager could not reach a system it depends on.",
        "This is usually temporary: wait a little and try again.",
    ),
    # V2 platform codes (Functions V2; official Node and Java clients).
    "com.liveperson.faas.evg.general": (
        "The Functions gateway hit an unexpected error of its own.",
        "Try again in a moment; if it keeps happening, contact LivePerson support "
        "with the request id.",
    ),
    "com.liveperson.faas.evg.invalid": (
        "The gateway rejected the request as invalid: the payload or a parameter is wrong.",
        "Check that the payload is valid JSON and that the skill id and event are correct.",
    ),
    "com.customer.faas.function.threw-error": (
        "The function ran and threw an error.",
        _LOGS + " Fix the function or the input it was given.",
    ),
    "com.customer.faas.function.js-runtime-error": (
        "The function ran and crashed with a JavaScript runtime error.",
        _LOGS + " Fix the bug in the function's code.",
    ),
    "com.customer.faas.function.execution-exceeded": (
        "The function ran past its execution-time limit (30 seconds).",
        "Make sure the function returns on every path, and give its own outbound calls "
        "short timeouts.",
    ),
    "com.liveperson.faas.function.not-found": (
        "No deployed function with this UUID exists on this account.",
        "Check the UUID and the account id, and that the function is deployed; list the "
        "account's functions to find it.",
    ),
    "com.liveperson.faas.function.runtime.limit-reached": (
        "The function hit one of the platform's runtime limits (for example, the log limit).",
        "Reduce what the function logs or does per invocation.",
    ),
    "com.liveperson.faas.self-service.pending": (
        "LivePerson Functions is not yet fully set up for this account.",
        "Wait for provisioning to finish, or ask your LivePerson account team.",
    ),
}

STATUSES = {
    400: (
        "LivePerson rejected the request as malformed (a bad payload, filter or parameter).",
        "Check the payload is valid JSON and any filters (for example state: Draft, "
        "Productive, Modified) are spelled correctly.",
    ),
    401: (
        "LivePerson did not accept the credentials: the token is missing, expired, or "
        "issued for another account.",
        "Sign in again; for an app, check LP_CLIENT_ID, LP_CLIENT_SECRET and LP_ACCOUNT_ID.",
    ),
    403: (
        "The credentials are valid but lack permission: invoking needs the FaaS-Invocation "
        "permission (or an app with the faas.lambda.invoke scope), and listing functions "
        "needs a signed-in user, not an app token.",
        "Ask your LivePerson administrator to grant your profile the FaaS-Invocation "
        "permission, or sign in as a user who has it.",
    ),
    404: (
        "LivePerson found nothing at this address: the function does not exist or is not "
        "deployed, or the account or event is wrong.",
        "Check the UUID, event id and account id, and that the function is deployed.",
    ),
    405: (
        "The gateway does not allow this HTTP method here, which usually means a wrong host.",
        "Check the configured hosts (LP_DOMAINS, LP_CSDS_URL).",
    ),
    408: (
        "The gateway did not receive the whole request in time.",
        "Check your network connection and try again.",
    ),
    429: (
        "Too many calls: the account's rate limit for Functions was reached.",
        "Wait (for as long as the Retry-After header says, if given) and send fewer calls.",
    ),
    499: (
        "The platform gave up on the function because it ran past its time limit.",
        "Make the function finish faster, or give its outbound calls short timeouts.",
    ),
    500: (
        "LivePerson had an unexpected server error; it may be temporary.",
        "Try again in a moment; if it persists, contact LivePerson support with the request id.",
    ),
    502: (
        "A LivePerson gateway got a bad answer from the service behind it; usually temporary.",
        "Try again in a moment.",
    ),
    503: (
        "The Functions service is temporarily unavailable (overloaded or in maintenance).",
        "Try again in a few moments.",
    ),
    504: (
        "A LivePerson gateway timed out waiting for the service behind it; the function may "
        "or may not have run.",
        "Check the function's logs before retrying, so it does not run twice.",
    ),
    901: (
        "The function ran and failed: it threw, crashed, returned an error, or ran past its "
        "time limit.",
        _LOGS,
    ),
}

# Failures detected by this client rather than reported by the platform.
LOCAL = {
    "connect": (
        "No connection to LivePerson could be opened, so the request was never sent and "
        "the function did not run.",
        "Check your network or VPN and the configured hosts (LP_DOMAINS, LP_CSDS_URL), "
        "then try again.",
    ),
    "tls": (
        "The secure (https) connection to LivePerson could not be established, so the "
        "request was never sent.",
        "Check the configured host names and the machine's CA certificates.",
    ),
    "read-timeout": (
        "LivePerson did not answer in time. The request had been sent, so the function may "
        "or may not have run.",
        "Check the function's logs before retrying, so it does not run twice; give slow "
        "functions a longer timeout.",
    ),
    "broken": (
        "The connection broke after the request was sent, so the function may or may not "
        "have run.",
        "Check the function's logs before retrying, so it does not run twice.",
    ),
    "timeout": (
        "LivePerson did not answer in time.",
        "Try again in a moment; check your network connection.",
    ),
    "discovery": (
        "The LivePerson host for this service could not be found for the account.",
        "Check LP_ACCOUNT_ID and LP_CSDS_URL, or name the hosts with LP_DOMAINS.",
    ),
    "auth": (
        "No access token could be obtained for the call.",
        "Sign in again; for an app, check LP_CLIENT_ID and LP_CLIENT_SECRET and that the "
        "app is installed on this account with the client_credentials grant.",
    ),
    "too-large": (
        "The answer was larger than 5 MB, the most this client will read.",
        "Make the function return less data (for example, page through it).",
    ),
    "redirect": (
        "LivePerson answered with a redirect, which this client never follows (following "
        "it could send your token to another host).",
        "Check the configured hosts (LP_DOMAINS, LP_CSDS_URL); a redirect usually means a "
        "wrong host or a login page in front of it.",
    ),
    "bad-input": (
        "An argument or setting is not valid, so nothing was sent.",
        "Fix the value the message names, then try again.",
    ),
    "bad-response": (
        "LivePerson's answer did not have the expected shape.",
        "Check that the configured hosts are the real Functions services; if they are, "
        "report the request id to LivePerson support.",
    ),
}

_GENERIC_4XX = (
    "LivePerson rejected the request.",
    "Check the request (UUID, event id, payload) and your permissions.",
)
_GENERIC_5XX = (
    "LivePerson had a server error; it may be temporary.",
    "Try again in a moment; if it persists, contact LivePerson support with the request id.",
)
_GENERIC = (
    "The call to LivePerson Functions failed.",
    "Try again; if it persists, contact LivePerson support with the request id.",
)


# LivePerson's Functions permissions (developer-center liveperson-functions-permission-system):
# FaaS-Admin, FaaS-Developer and FaaS-Invocation may read functions; only the last two invoke.
ASK_ADMIN = (
    "Ask your LivePerson administrator to add the FaaS-Invocation permission to your profile "
    "(Users → Profiles), or sign in as a user who has it."
)
FORBIDDEN = {
    ("user", "invoke"): (
        "Your LivePerson user may not invoke functions: that needs the FaaS-Invocation or "
        "FaaS-Developer permission (FaaS-Admin may read functions but not invoke them).",
        ASK_ADMIN,
    ),
    ("user", "read"): (
        "Your LivePerson user may not read this account's functions: that needs the "
        "FaaS-Invocation, FaaS-Developer or FaaS-Admin permission.",
        ASK_ADMIN,
    ),
    ("app", "invoke"): (
        "The app's token may not invoke functions: the app was not installed with the "
        "faas.lambda.invoke scope.",
        "Ask your LivePerson account team to install the app with scope faas.lambda.invoke.",
    ),
    ("app", "read"): (
        "LivePerson does not let app tokens (client credentials) list functions: listing "
        "needs a signed-in user with the FaaS-Invocation, FaaS-Developer or FaaS-Admin "
        "permission.",
        "Use a user's bearer (UserBearer, or LP_BEARER on the command line).",
    ),
}
INVOKING = ("invoke", "invoke_event")


def explain_forbidden(operation: str, principal: str) -> tuple[str, str]:
    """Return `(explanation, advice)` for a 403, naming the permission `operation` needs."""
    action = "invoke" if operation in INVOKING else "read"
    return FORBIDDEN[(principal if principal == "app" else "user", action)]


def explain(status: int | None, code: str | None) -> tuple[str, str]:
    """Return `(explanation, advice)` for an HTTP status and platform error code."""
    # The official Node client leaves a trailing tab on some mapped codes; be lenient.
    code = code.strip() if isinstance(code, str) else None
    if code in CODES:
        return CODES[code]
    if status in STATUSES:
        return STATUSES[status]
    if isinstance(status, int) and 400 <= status < 500:
        return _GENERIC_4XX
    if isinstance(status, int) and status >= 500:
        return _GENERIC_5XX
    return _GENERIC


def explain_local(kind: str) -> tuple[str, str]:
    """Return `(explanation, advice)` for a failure this client detected itself."""
    return LOCAL.get(kind, _GENERIC)
