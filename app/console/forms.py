"""Check what people type into the invoke forms before anything reaches the gateway."""

import json
import re
from dataclasses import dataclass
from dataclasses import field

from liveperson_functions.inputs import EVENT_ID
from liveperson_functions.inputs import SKILL_ID
from liveperson_functions.inputs import json_depth
from liveperson_functions.variables import with_stand_ins

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_INT_DIGITS = 100
MAX_HEADERS = 20
MAX_HEADER_VALUE = 1024
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
EVENT_SOURCE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# No control characters and no lone UTF-16 surrogates (they cannot be stored as UTF-8).
NAME = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]{1,80}$")
SURROGATE = re.compile(r"[\ud800-\udfff]")


LONE_SURROGATE = "it holds a lone UTF-16 surrogate (such as \\ud800), which is not Unicode text"


class PayloadError(ValueError):
    """A payload that is not strict JSON; the message says what and where."""


class PayloadTooLarge(PayloadError):
    """A payload over the gateway's documented size limit."""


def _reject_constant(name):
    raise PayloadError(f"{name} is not a JSON number: use a finite number or a string")


def _pairs_without_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            # A key may hold a lone surrogate, which no page or session can hold.
            shown = SURROGATE.sub("\ufffd", key)
            raise PayloadError(f'the key "{shown}" appears twice in one object')
        seen[key] = value
    return seen


def _check_number(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise PayloadError(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _check_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise PayloadError(f"the number {text[:20]} is too large to be a finite number")
    return value


# A JSON string token, or a bracket outside strings.
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
TOO_DEEP = "\u0000(nested too deep)"


def flatten_deep(text, limit=MAX_DEPTH):
    """Return JSON text with each value nested deeper than `limit` replaced by TOO_DEEP."""
    # json recurses once per level: what it parses afterwards stays within `limit` levels.
    parts, depth, start, cut = [], 0, 0, None
    for match in JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth == limit + 1:
                parts.append(text[start : match.start()])
                cut = match.start()
        elif token in ("]", "}"):
            if depth == limit + 1:
                parts.append(json.dumps(TOO_DEEP))
                start, cut = match.end(), None
            depth -= 1
    if cut is not None:
        # Never closed: the text is cut there, and json reports it as not valid.
        return "".join(parts)
    return "".join(parts) + text[start:]


def parse_payload(text):
    """Parse a payload as strict JSON (RFC 8259), or raise PayloadError naming the problem."""
    if SURROGATE.search(text):
        raise PayloadError(LONE_SURROGATE)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"The payload is larger than {MAX_PAYLOAD_BYTES // 1024} KB, the most the gateway "
            f"accepts ({len(text.encode()):,} bytes): send a smaller one"
        )
    if not text.strip():
        raise PayloadError("the payload is empty: write JSON, for example {}")
    # Checked before parsing: json recurses once per level and would overflow the stack.
    if json_depth(text) > MAX_DEPTH:
        raise PayloadError(f"the payload nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_check_number,
            parse_float=_check_float,
            object_pairs_hook=_pairs_without_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise PayloadError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    # An escape such as "\ud800" decodes to a lone surrogate, which no UTF-8 text can hold.
    if SURROGATE.search(json.dumps(value, ensure_ascii=False)):
        raise PayloadError(LONE_SURROGATE)
    return value


def check_saved(text):
    """Check a payload to keep as parse_payload does, its {{variables}} standing in for values."""
    parse_payload(with_stand_ins(text))


@dataclass
class Invocation:
    """A checked invoke form: what to send, and what was typed (kept for redisplay)."""

    payload_text: str = "{}"
    headers: list = field(default_factory=list)
    skill_id: str = ""
    event_source: str = ""
    payload: object = None
    errors: dict = field(default_factory=dict)
    # Whose token invokes: "user" or "app" (admins only); kept wherever the form comes back.
    invoke_as: str = "user"
    # The environment chosen, the header values to send once its variables are filled, and
    # what was sent as shown (app.workspace.variables).
    environment: str = ""
    sent_headers: dict | None = None
    variables: dict | None = None

    def header_dict(self):
        """Return the header rows that have a name, as a dict."""
        return {name: value for name, value in self.headers if name}

    def options(self):
        """Return the client's invoke options for what the form says."""
        return {
            "headers": self.header_dict() if self.sent_headers is None else self.sent_headers,
            "skill_id": self.skill_id or None,
            "event_source": self.event_source or None,
        }


def typed(text):
    """Return a textarea's text as typed: browsers send its line breaks as CRLF."""
    return text.replace("\r\n", "\n")


def read_invoke_form(form):
    """Read and check an invoke form; unknown fields (account, URL, Authorization) are ignored."""
    names, values = form.getlist("header_name"), form.getlist("header_value")
    rows = [(n.strip(), v) for n, v in zip(names, values, strict=False) if n.strip() or v]
    checked = Invocation(
        payload_text=typed(form.get("payload", "")),
        headers=rows,
        skill_id=form.get("skill_id", "").strip(),
        event_source=form.get("event_source", "").strip(),
        invoke_as="app" if form.get("invoke_as") == "app" else "user",
    )
    errors = checked.errors
    try:
        checked.payload = parse_payload(checked.payload_text)
    except PayloadTooLarge as exc:
        errors["payload"] = f"{exc}."
    except PayloadError as exc:
        errors["payload"] = f"The payload is not valid JSON: {exc}."
    if len(rows) > MAX_HEADERS:
        errors["headers"] = f"Send at most {MAX_HEADERS} invocation headers."
    for name, value in rows:
        if not HEADER_NAME.fullmatch(name):
            errors["headers"] = (
                f"The header name {name[:40]!r} is not valid: use letters, digits and - only."
            )
        elif len(value) > MAX_HEADER_VALUE or any(c in value for c in "\r\n\x00"):
            errors["headers"] = (
                f"The value of header {name!r} must be one line of at most "
                f"{MAX_HEADER_VALUE} characters."
            )
    if checked.skill_id and not SKILL_ID.fullmatch(checked.skill_id):
        errors["skill_id"] = "A skill id is letters, digits, - and _ only (at most 64)."
    if checked.event_source and not EVENT_SOURCE.fullmatch(checked.event_source):
        errors["event_source"] = (
            "An event source is letters, digits, - _ . : only (at most 64 characters)."
        )
    return checked


def check_event_id(value):
    """Return the event id if it is allowed, else None."""
    return value if value and EVENT_ID.fullmatch(value) else None


def check_name(value):
    """Return a saved payload's name trimmed, or None if it is empty or has control characters."""
    value = (value or "").strip()
    return value if NAME.fullmatch(value) else None
