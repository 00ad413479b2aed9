"""Test suites: cases with expectations, read from JSON, run with any client, reported."""

import json
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from .errors import FaaSError
from .errors import FaaSLambdaError
from .expectations import ExpectationError
from .expectations import evaluate
from .expectations import read_check
from .inputs import EVENT_ID
from .inputs import UUID
from .inputs import json_depth

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_SUITES = 100
MAX_CASES = 200
OUTCOMES = ("success", "function-error", "platform-error")


class SuiteError(ValueError):
    """A suite file, suite or case that cannot be read; the message says why."""


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "function" or "event"
    target: str
    payload: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    skill_id: str | None = None
    event_source: str | None = None
    outcome: str | None = None
    status: int | None = None
    checks: tuple[Any, ...] = ()
    max_duration_ms: float | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]


@dataclass
class Result:
    """What one case got, and each expectation it missed: (what, expected, got, diff)."""

    case: Case
    outcome: str
    status: int | None
    body: Any
    duration_ms: float
    request_id: str | None = None
    failures: list[tuple[str, Any, Any, str]] = field(default_factory=list)

    @property
    def passed(self):
        return not self.failures


def parse_file(raw):
    """Parse a suite file's bytes as strict UTF-8 JSON within size and depth limits."""
    if len(raw) > MAX_FILE_BYTES:
        raise SuiteError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise SuiteError(f"the file is not UTF-8 text (byte {exc.start})") from None
    if json_depth(text) > MAX_DEPTH:
        raise SuiteError(f"the file nests deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise SuiteError(f"the file is not JSON: {exc}") from None
    _check_text(data)
    return data


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON value")


def _check_text(value):
    """Refuse lone surrogates (\\ud800): they cannot be stored or sent as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise SuiteError(
                    "the file has an unpaired surrogate (\\ud8xx) in a string"
                ) from None


def read_suites(data):
    """Return (suites, errors) from a parsed file: one suite, or an export of several.

    A suite with any bad case is left out whole; `errors` names each bad entry.
    """
    if isinstance(data, dict) and "suites" in data:
        items = data["suites"]
    elif isinstance(data, dict) and "cases" in data:
        items = [data]
    else:
        raise SuiteError('expected {"name": …, "cases": […]} or {"suites": […]}')
    if not isinstance(items, list) or len(items) > MAX_SUITES:
        raise SuiteError(f'"suites" must be a list of at most {MAX_SUITES} suites')
    suites, errors = [], []
    for number, item in enumerate(items, 1):
        try:
            suites.append(read_suite(item))
        except SuiteError as exc:
            errors.append(f"suite {number}: {exc}")
    return suites, errors


def read_suite(item):
    """Return a Suite from its JSON form, or raise SuiteError listing every bad case."""
    if not isinstance(item, dict):
        raise SuiteError("not an object")
    name = item.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 80:
        raise SuiteError('"name" must be text of 1 to 80 characters')
    cases = item.get("cases")
    if not isinstance(cases, list) or len(cases) > MAX_CASES:
        raise SuiteError(f'"{name}": "cases" must be a list of at most {MAX_CASES} cases')
    read, problems = [], []
    for number, case in enumerate(cases, 1):
        try:
            read.append(read_case(case, number))
        except SuiteError as exc:
            problems.append(f"case {number}: {exc}")
    if problems:
        raise SuiteError(f'"{name}": ' + "; ".join(problems))
    return Suite(name.strip(), tuple(read))


def read_case(item, number=1):
    """Return a Case from its JSON form, or raise SuiteError saying what is wrong."""
    if not isinstance(item, dict):
        raise SuiteError("not an object")
    if ("function" in item) == ("event" in item):
        raise SuiteError('give exactly one of "function" (a UUID) or "event" (an event id)')
    kind = "function" if "function" in item else "event"
    target = item[kind]
    pattern = UUID if kind == "function" else EVENT_ID
    if not isinstance(target, str) or not pattern.match(target):
        raise SuiteError(f'"{kind}" is not a valid {"UUID" if kind == "function" else "event id"}')
    headers = item.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise SuiteError('"headers" must map names to text')
    for key in ("name", "skillId", "eventSource"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise SuiteError(f'"{key}" must be text')
    expect = item.get("expect") or {}
    if not isinstance(expect, dict):
        raise SuiteError('"expect" must be an object')
    outcome, status = expect.get("outcome"), expect.get("status")
    if outcome is not None and outcome not in OUTCOMES:
        raise SuiteError(f'"expect.outcome" must be one of {", ".join(OUTCOMES)}')
    if status is not None and (type(status) is not int or not 100 <= status <= 999):
        raise SuiteError('"expect.status" must be an HTTP status such as 200 or 901')
    if outcome is None and status is None:
        outcome = "success"  # a case that says nothing expects the function to work
    limit = expect.get("maxDurationMs")
    if limit is not None and (type(limit) not in (int, float) or limit <= 0):
        raise SuiteError('"expect.maxDurationMs" must be a positive number')
    return Case(
        name=(item.get("name") or f"case {number}")[:120],
        kind=kind,
        target=target.lower() if kind == "function" else target,
        payload=item.get("payload", {}),
        headers=headers,
        skill_id=item.get("skillId") or None,
        event_source=item.get("eventSource") or None,
        outcome=outcome,
        status=status,
        checks=_checks(expect.get("json")),
        max_duration_ms=limit,
    )


def _checks(value):
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SuiteError('"expect.json" must be a list')
    try:
        return tuple(read_check(item) for item in value)
    except ExpectationError as exc:
        raise SuiteError(str(exc)) from None


def run_case(case, send, clock=time.perf_counter):
    """Invoke one case through `send(operation)` (which calls `operation(client)`); evaluate it."""
    options = {
        "headers": case.headers,
        "skill_id": case.skill_id,
        "event_source": case.event_source,
    }
    started = clock()
    try:
        if case.kind == "function":
            answer = send(lambda client: client.invoke(case.target, case.payload, **options))
            outcome, status, body = "success", answer.status, answer.result
            request_id = answer.request_id
        else:
            answers = send(
                lambda client: client.invoke_event(case.target, case.payload, **options)
            )
            outcome, status, request_id = "success", 200, None
            body = [{"uuid": a.uuid, "result": a.result} for a in answers]
    except FaaSError as exc:
        outcome = "function-error" if isinstance(exc, FaaSLambdaError) else "platform-error"
        status, request_id = exc.status, exc.request_id
        body = {"code": getattr(exc, "code", None), "message": exc.message}
    except ValueError as exc:
        outcome, status, request_id, body = "platform-error", None, None, {"message": str(exc)}
    elapsed = round((clock() - started) * 1000, 1)
    return evaluate(case, Result(case, outcome, status, body, elapsed, request_id))


def as_text(value):
    """Show an expected or got value: text as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def to_json(suite):
    """Return a suite's JSON form (the file format read_suite reads)."""
    return {"name": suite.name, "cases": [case_json(c) for c in suite.cases]}


def case_json(case):
    item = {"name": case.name, case.kind: case.target, "payload": case.payload}
    if case.headers:
        item["headers"] = case.headers
    if case.skill_id:
        item["skillId"] = case.skill_id
    if case.event_source:
        item["eventSource"] = case.event_source
    expect = {
        "outcome": case.outcome,
        "status": case.status,
        "maxDurationMs": case.max_duration_ms,
    }
    expect = {k: v for k, v in expect.items() if v is not None}
    if case.checks:
        expect["json"] = [{"path": c.path, c.op: c.value} for c in case.checks]
    item["expect"] = expect
    return item
