"""Variables: `{{name}}` in payload text and header values, from an environment or built in.

One resolver for the web app and the command line. A value is inserted as JSON text where it
stands: inside a JSON string it is escaped as string content (`"{{name}}"` gives a string),
outside strings it is inserted as is (`{{count}}` with the value 5 gives the number 5).
"""

import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
PLACEHOLDER = re.compile(r"\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.-]{0,63})\s*\}\}")
# A JSON string token (escapes kept whole), so placeholders inside strings are told apart.
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
MASK = "••••"
MAX_VARIABLES = 100
MAX_VALUE = 16 * 1024


def _iso_now():
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


BUILT_INS = {
    "$uuid": lambda: str(uuid.uuid4()),
    "$timestamp": lambda: str(int(time.time() * 1000)),
    "$isoTimestamp": _iso_now,
    "$randomInt": lambda: str(random.randint(0, 1000)),  # noqa: S311 (test data, not a secret)
}


class VariableError(ValueError):
    """An environment that cannot be read, or a placeholder no variable fills."""


class UnknownVariable(VariableError):
    """Placeholders that name no variable of the environment and no built-in."""

    def __init__(self, names):
        self.names = sorted(set(names))
        shown = ", ".join("{{" + name + "}}" for name in self.names)
        noun = "variable" if len(self.names) == 1 else "variables"
        super().__init__(f"unknown {noun} {shown}")


@dataclass(frozen=True)
class Variable:
    """One variable of an environment; a secret one's value is never shown."""

    name: str
    value: str
    secret: bool = False


@dataclass(frozen=True)
class Resolved:
    """Text with its placeholders filled: `text` to send, `shown` with secrets masked."""

    text: str
    shown: str


def names_in(text):
    """Return the variable names a text's placeholders use, in order of appearance."""
    return [match.group(1) for match in PLACEHOLDER.finditer(text or "")]


class Resolver:
    """Fill placeholders from one environment's variables (a name -> Variable mapping)."""

    def __init__(self, variables=None):
        self.variables = dict(variables or {})

    @property
    def secrets(self):
        """Return the secret values, longest first (so a longer one is masked whole)."""
        values = {v.value for v in self.variables.values() if v.secret and v.value}
        return sorted(values, key=len, reverse=True)

    def _value(self, name):
        if name in BUILT_INS:
            return Variable(name, BUILT_INS[name]())
        return self.variables.get(name)

    def check(self, *texts):
        """Raise UnknownVariable naming every placeholder nothing fills."""
        unknown = [name for text in texts for name in names_in(text) if self._value(name) is None]
        if unknown:
            raise UnknownVariable(unknown)

    def _fill(self, text, escape):
        sent, shown = [], []
        position = 0
        for match in PLACEHOLDER.finditer(text):
            variable = self._value(match.group(1))
            if variable is None:
                raise UnknownVariable([match.group(1)])
            before = text[position : match.start()]
            value = escape(variable.value)
            sent += [before, value]
            shown += [before, MASK if variable.secret else value]
            position = match.end()
        sent.append(text[position:])
        shown.append(text[position:])
        return "".join(sent), "".join(shown)

    def text(self, text):
        """Resolve plain text (a header value): values go in as they are."""
        self.check(text)
        return Resolved(*self._fill(text, lambda value: value))

    def json(self, text):
        """Resolve JSON text: a value inside a string is escaped as string content."""
        self.check(text)
        sent, shown, position = [], [], 0
        for match in JSON_STRING.finditer(text):
            outside = self._fill(text[position : match.start()], lambda value: value)
            inside = self._fill(match.group(), lambda value: json.dumps(value)[1:-1])
            sent += [outside[0], inside[0]]
            shown += [outside[1], inside[1]]
            position = match.end()
        rest = self._fill(text[position:], lambda value: value)
        return Resolved("".join([*sent, rest[0]]), "".join([*shown, rest[1]]))

    def mask(self, text):
        """Return text with every secret value (as is, or escaped in JSON) shown as ••••."""
        if not isinstance(text, str):
            return text
        for value in self.secrets:
            text = text.replace(value, MASK)
            escaped = json.dumps(value)[1:-1]
            if escaped != value:
                text = text.replace(escaped, MASK)
        return text


def with_stand_ins(text):
    """Return JSON text with each placeholder outside strings as 0, to check it before filling."""
    parts, position = [], 0
    for match in JSON_STRING.finditer(text):
        parts += [PLACEHOLDER.sub("0", text[position : match.start()]), match.group()]
        position = match.end()
    return "".join([*parts, PLACEHOLDER.sub("0", text[position:])])


def read_variables(data):
    """Return name -> Variable from an environment file's parsed JSON."""
    # Three shapes: a flat object {"name": value}; this app's {"variables": [{"name", "value",
    # "secret"}]}; a Postman environment {"values": [{"key", "value", "type", "enabled"}]}.
    # A value that is not text is kept as its JSON text.
    if isinstance(data, dict) and isinstance(data.get("variables"), list):
        rows = [
            (item.get("name"), item.get("value"), item.get("secret") is True)
            for item in data["variables"]
            if isinstance(item, dict)
        ]
    elif isinstance(data, dict) and isinstance(data.get("values"), list):
        rows = [
            (item.get("key"), item.get("value"), item.get("type") == "secret")
            for item in data["values"]
            if isinstance(item, dict) and item.get("enabled", True) is not False
        ]
    elif isinstance(data, dict):
        rows = [(name, value, False) for name, value in data.items()]
    else:
        raise VariableError("an environment file is a JSON object of variables")
    if len(rows) > MAX_VARIABLES:
        raise VariableError(f"an environment has at most {MAX_VARIABLES} variables")
    found = {}
    for name, value, secret in rows:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise VariableError(
                f"{str(name)[:40]!r} is not a variable name (a letter or _, then letters, "
                "digits, _ . -; at most 64)"
            )
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_VALUE:
            raise VariableError(f"the value of {name} is longer than {MAX_VALUE} characters")
        found[name] = Variable(name, text, secret)
    return found


def load_file(path):
    """Read an environment file (see read_variables) into a Resolver."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise VariableError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise VariableError(f"{path} is not JSON: {exc}") from None
    return Resolver(read_variables(data))


def resolve_case(case, resolver):
    """Return a suite case with its payload and header values filled, and the payload shown."""
    # The payload is JSON already, so its variables stand inside its strings.
    resolved = resolver.json(json.dumps(case.payload, ensure_ascii=False))
    headers = {name: resolver.text(value).text for name, value in case.headers.items()}
    try:
        payload = json.loads(resolved.text)
    except ValueError as exc:
        raise VariableError(
            f"the payload is not JSON after its variables are filled: {exc}"
        ) from None
    return replace(case, payload=payload, headers=headers), resolved.shown
