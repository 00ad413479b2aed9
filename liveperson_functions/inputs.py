"""What a caller may pass: the id patterns, and checks that raise FaaSInputError before sending."""

import re
from collections.abc import Iterable
from typing import cast

from .errors import FaaSInputError

UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# LivePerson's skill ids are numbers; the platform would match anything else against nothing.
SKILL_ID = re.compile(r"^[0-9]{1,19}$")
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
EVENT_SOURCE = re.compile(r"^[!-~]([ -~]{0,126}[!-~])?$")  # printable ASCII, header-safe
PLATFORMS = ("v1", "v2")


Timeout = float | tuple[float | None, float | None]


def check_account(value: object) -> str:
    return _matching(ACCOUNT_ID, value, "invalid LivePerson account id")


def check_platform(value: str | None) -> str | None:
    if value not in (None, *PLATFORMS):
        raise FaaSInputError(f"platform must be 'v1', 'v2' or None, not {value!r}")
    return value


def check_uuid(value: object) -> str:
    return _matching(UUID, value, "not a function UUID (8-4-4-4-12 hex)").lower()


def check_event(value: object) -> str:
    return _matching(EVENT_ID, value, "invalid event id (letters, digits, _ . : - only)")


def check_skill(value: object) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FaaSInputError(f"invalid skill id (a number): {value!r}")
    return _matching(SKILL_ID, value, "invalid skill id (a number)")


def check_request_id(value: object) -> str | None:
    return None if value is None else _matching(REQUEST_ID, value, "invalid request id")


def check_event_source(value: object) -> str:
    return _matching(EVENT_SOURCE, value, "invalid event source (printable ASCII, at most 128)")


def check_timeout(value: object) -> tuple[float | None, float | None] | None:
    """Return a timeout as `(connect, read)` seconds or None; one number sets the read timeout."""
    if value is None:
        return None
    pair = value if isinstance(value, tuple) else (None, value)
    if len(pair) != 2 or not all(v is None or _positive(v) for v in pair):
        raise FaaSInputError(
            f"timeout must be a positive number of seconds or a (connect, read) pair, "
            f"not {value!r}"
        )
    return cast("tuple[float | None, float | None]", (pair[0], pair[1]))


def check_states(state: str | Iterable[str] | None) -> list[str]:
    if state is None:
        return []
    try:
        states = [state] if isinstance(state, str) else list(state)
    except TypeError:
        raise FaaSInputError(f"invalid state filter: {state!r}") from None
    if not all(isinstance(s, str) and s for s in states):
        raise FaaSInputError(f"invalid state filter: {state!r}")
    return states


def check_user_id(value: object) -> str | None:
    return None if value in (None, "") else _matching(USER_ID, value, "invalid user id")


def _positive(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def _matching(pattern: re.Pattern[str], value: object, complaint: str) -> str:
    text = str(value)
    if not pattern.fullmatch(text):  # `$` alone would let a trailing newline through
        raise FaaSInputError(f"{complaint}: {text!r}")
    return text


def json_depth(text: str) -> int:
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
