"""What a caller may pass: the id patterns, and checks that raise FaaSInputError before sending."""

import re

from .errors import FaaSInputError

UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SKILL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
EVENT_SOURCE = re.compile(r"^[!-~]([ -~]{0,126}[!-~])?$")  # printable ASCII, header-safe
PLATFORMS = ("v1", "v2")


def check_account(value):
    return _matching(ACCOUNT_ID, value, "invalid LivePerson account id")


def check_platform(value):
    if value not in (None, *PLATFORMS):
        raise FaaSInputError(f"platform must be 'v1', 'v2' or None, not {value!r}")
    return value


def check_uuid(value):
    return _matching(UUID, value, "not a function UUID (8-4-4-4-12 hex)").lower()


def check_event(value):
    return _matching(EVENT_ID, value, "invalid event id (letters, digits, _ . : - only)")


def check_skill(value):
    return None if value in (None, "") else _matching(SKILL_ID, value, "invalid skill id")


def check_request_id(value):
    return None if value is None else _matching(REQUEST_ID, value, "invalid request id")


def check_event_source(value):
    return _matching(EVENT_SOURCE, value, "invalid event source (printable ASCII, at most 128)")


def check_timeout(value):
    """Return a timeout as `(connect, read)` seconds or None; one number sets the read timeout."""
    if value is None:
        return None
    pair = value if isinstance(value, tuple) else (None, value)
    if len(pair) != 2 or not all(v is None or _positive(v) for v in pair):
        raise FaaSInputError(
            f"timeout must be a positive number of seconds or a (connect, read) pair, "
            f"not {value!r}"
        )
    return pair


def check_states(state):
    if state is None:
        return []
    states = [state] if isinstance(state, str) else list(state)
    if not all(isinstance(s, str) and s for s in states):
        raise FaaSInputError(f"invalid state filter: {state!r}")
    return states


def check_user_id(value):
    return None if value in (None, "") else _matching(SKILL_ID, value, "invalid user id")


def _positive(value):
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _matching(pattern, value, complaint):
    text = str(value)
    if not pattern.fullmatch(text):  # `$` alone would let a trailing newline through
        raise FaaSInputError(f"{complaint}: {text!r}")
    return text


def json_depth(text):
    """Return the deepest nesting of [ and { outside strings, without recursing."""
    level = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest
