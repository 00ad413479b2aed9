"""Expectations on an invocation's answer: values at JSON paths, and what differs."""

import difflib
import json
from dataclasses import dataclass
from typing import Any

import regex

MAX_PATTERN = 500
MATCH_TIMEOUT = 0.5  # seconds a `matches` pattern may take; a runaway pattern fails the case
OPERATORS = ("equals", "contains", "matches")
MISSING = object()
PATH_STEP = regex.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class ExpectationError(ValueError):
    """An expectation that cannot be checked as written; the message says why."""


@dataclass(frozen=True)
class Check:
    path: str
    op: str
    value: Any


def read_check(item):
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise ExpectationError('each "expect.json" entry needs a "path" such as "$.greeting"')
    ops = [op for op in OPERATORS if op in item]
    if len(ops) != 1:
        raise ExpectationError(f'"{item["path"]}": give exactly one of equals, contains, matches')
    steps(item["path"])
    op, value = ops[0], item[ops[0]]
    if op == "matches":
        if not isinstance(value, str) or len(value) > MAX_PATTERN:
            raise ExpectationError(
                f'"matches" takes a pattern of at most {MAX_PATTERN} characters'
            )
        try:
            regex.compile(value)
        except regex.error as exc:
            raise ExpectationError(f'"matches" pattern {value!r} is not valid: {exc}') from None
    return Check(item["path"], op, value)


def steps(path):
    """Split `$.a.b[0]["c d"]` into keys and indexes."""
    rest = path[1:] if path.startswith("$") else "." + path if path else ""
    found, at = [], 0
    while at < len(rest):
        step = PATH_STEP.match(rest, at)
        if step is None:
            raise ExpectationError(f'the path "{path}" is not $.key, [index] or ["key"] steps')
        key, index, quoted = step.groups()
        found.append(
            int(index) if index is not None else key if key else json.loads(f'"{quoted}"')
        )
        at = step.end()
    return found


def at_path(value, path):
    for step in steps(path):
        indexed = isinstance(step, int) and isinstance(value, list) and step < len(value)
        keyed = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (indexed or keyed):
            return MISSING
        value = value[step]
    return value


def same(a: object, b: object) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    return type(a) is type(b) and a == b


def contains(got, part):
    """Text holds a substring, a list an element, an object these keys with these values."""
    if isinstance(got, str) and isinstance(part, str):
        return part in got
    if isinstance(got, list):
        # An element equal to `part`, or (for objects) holding it: results by event are lists.
        return any(same(item, part) or is_subset(item, part) for item in got)
    return is_subset(got, part)


def is_subset(got, part):
    if not (isinstance(got, dict) and isinstance(part, dict)):
        return False
    return all(k in got and same(got[k], v) for k, v in part.items())


def holds(check, got):
    """Tell whether the value found at the check's path meets it."""
    if got is MISSING:
        return False
    if check.op == "equals":
        return same(got, check.value)
    if check.op == "contains":
        return contains(got, check.value)
    try:
        return isinstance(got, str) and bool(regex.search(check.value, got, timeout=MATCH_TIMEOUT))
    except TimeoutError:
        return False


def diff(expected, got):
    """Return a unified diff of two JSON values, pretty-printed, or '' for plain values."""
    if not isinstance(expected, dict | list) or not isinstance(got, dict | list):
        return ""
    lines = [json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False) for v in (expected, got)]
    found = difflib.unified_diff(
        lines[0].splitlines(), lines[1].splitlines(), "expected", "got", lineterm=""
    )
    return "\n".join(found)


def evaluate(case, result):
    """Fill `result.failures` with each expectation of `case` it does not meet."""
    failed = result.failures
    if case.outcome and result.outcome != case.outcome:
        failed.append(("outcome", case.outcome, result.outcome, ""))
    if case.status is not None and result.status != case.status:
        failed.append(("HTTP status", case.status, result.status, ""))
    if case.max_duration_ms and result.duration_ms > case.max_duration_ms:
        failed.append(
            ("duration", f"≤ {case.max_duration_ms:g} ms", f"{result.duration_ms} ms", "")
        )
    for check in case.checks:
        got = at_path(result.body, check.path)
        if not holds(check, got):
            shown = "(nothing at this path)" if got is MISSING else got
            what = f"{check.path} {check.op}"
            failed.append((what, check.value, shown, diff(check.value, shown)))
    return result
