"""What differs between two JSON texts, path by path; long strings and plain text by line."""

import difflib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from liveperson_functions.expectations import same

LONG = 80  # a changed string this long, or of several lines, is diffed line by line
MAX_CHANGES = 500
MAX_SHOWN = 2000  # characters of a value shown
KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Change:
    """One difference: where (a `$.a[0]["b c"]` path), how, the values, and a line diff."""

    path: str
    kind: str  # changed, added or removed
    before: str | None
    after: str | None
    lines: tuple[str, ...] = ()


def step(path: str, key: str | int) -> str:
    """Extend a path by a key or an index, in the notation suite expectations read."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return (
        f"{path}.{key}" if KEY.fullmatch(key) else f"{path}[{json.dumps(key, ensure_ascii=False)}]"
    )


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " … (cut)"


def by_line(before: str, after: str) -> tuple[str, ...]:
    """Return a unified diff of two texts (context lines, - and + lines), without headers."""
    found = difflib.unified_diff(before.splitlines(), after.splitlines(), n=2, lineterm="")
    return tuple(line for line in found if not line.startswith(("---", "+++")))


def is_long(value: Any) -> bool:
    return isinstance(value, str) and (len(value) >= LONG or "\n" in value)


def walk(before: Any, after: Any, path: str = "$") -> Iterator[Change]:
    """Yield a Change for each path where two JSON values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key, value in before.items():
            if key in after:
                yield from walk(value, after[key], step(path, key))
            else:
                yield Change(step(path, key), "removed", shown(value), None)
        for key, value in after.items():
            if key not in before:
                yield Change(step(path, key), "added", None, shown(value))
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            if index >= len(after):
                yield Change(step(path, index), "removed", shown(before[index]), None)
            elif index >= len(before):
                yield Change(step(path, index), "added", None, shown(after[index]))
            else:
                yield from walk(before[index], after[index], step(path, index))
    elif not same(before, after):
        lines = by_line(before, after) if is_long(before) and is_long(after) else ()
        yield Change(path, "changed", shown(before), shown(after), lines)


def compare(before: str, after: str) -> tuple[list[Change], bool]:
    """Return (the changes, whether both texts were JSON): by path, or else by line."""
    try:
        values = json.loads(before), json.loads(after)
    except ValueError:
        return by_text(before, after), False
    try:
        return list(itertools.islice(walk(*values), MAX_CHANGES)), True
    except RecursionError:
        return by_text(before, after), False


def by_text(before: str, after: str) -> list[Change]:
    if before == after:
        return []
    return [Change("(text)", "changed", None, None, by_line(before, after))]
