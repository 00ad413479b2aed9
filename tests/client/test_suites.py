"""Suite files and expectations: what is read, what passes, and what a failure shows."""

import json

import pytest

from liveperson_functions.expectations import MISSING
from liveperson_functions.expectations import at_path
from liveperson_functions.suites import MAX_FILE_BYTES
from liveperson_functions.suites import Result
from liveperson_functions.suites import SuiteError
from liveperson_functions.suites import evaluate
from liveperson_functions.suites import parse_file
from liveperson_functions.suites import read_case
from liveperson_functions.suites import read_suites
from liveperson_functions.suites import to_json

GREETING = "d671cec5-7fd0-4f65-906d-84b02b642e65"


def case(**expect):
    return read_case({"function": GREETING, "payload": {}, "expect": expect})


def failures(expect, body, outcome="success", status=200, duration=10.0):
    checked = evaluate(case(**expect), Result(case(**expect), outcome, status, body, duration))
    return [(what, expected, got) for what, expected, got, _ in checked.failures]


BODY = {"greeting": "Hello, Ada!", "items": [{"id": 1}, {"id": 2}], "ok": True, "n": 1}


@pytest.mark.parametrize(
    ("check", "passes"),
    [
        ({"path": "$.greeting", "equals": "Hello, Ada!"}, True),
        ({"path": "greeting", "contains": "Ada"}, True),
        ({"path": "$.greeting", "matches": "^Hello, [A-Z]"}, True),
        ({"path": "$.items[1].id", "equals": 2}, True),
        ({"path": '$["greeting"]', "equals": "Hello, Ada!"}, True),
        ({"path": "$.items", "contains": {"id": 1}}, True),
        ({"path": "$", "contains": {"ok": True}}, True),
        ({"path": "$.n", "equals": 1.0}, True),
        ({"path": "$.ok", "equals": 1}, False),  # true is not 1
        ({"path": "$.n", "equals": True}, False),
        ({"path": "$.greeting", "equals": "Hello"}, False),
        ({"path": "$.items[5].id", "equals": 1}, False),
        ({"path": "$.n", "matches": "1"}, False),  # a pattern matches text only
    ],
)
def test_json_path_checks(check, passes):
    assert (failures({"json": [check]}, BODY) == []) is passes


def test_a_failure_says_what_was_expected_and_what_came_back():
    found = failures(
        {
            "outcome": "success",
            "status": 200,
            "maxDurationMs": 5,
            "json": [{"path": "$.missing", "equals": 1}],
        },
        {"code": "x"},
        outcome="function-error",
        status=901,
    )
    assert ("outcome", "success", "function-error") in found
    assert ("HTTP status", 200, 901) in found
    assert ("duration", "≤ 5 ms", "10.0 ms") in found
    assert ("$.missing equals", 1, "(nothing at this path)") in found


def test_json_equality_failures_carry_a_diff():
    checked = evaluate(
        case(json=[{"path": "$", "equals": {"a": [1, 3]}}]),
        Result(case(), "success", 200, {"a": [1, 2]}, 1.0),
    )
    ((_, _, _, difference),) = checked.failures
    assert "-    3" in difference and "+    2" in difference


def test_a_case_without_expectations_expects_success():
    assert read_case({"event": "conversational_command"}).outcome == "success"


def test_round_trip_through_the_file_format():
    raw = {
        "name": "S",
        "cases": [
            {
                "name": "c",
                "function": GREETING,
                "payload": {"a": 1},
                "headers": {"h": "v"},
                "skillId": "1001",
                "eventSource": "ci",
                "expect": {
                    "outcome": "success",
                    "status": 200,
                    "maxDurationMs": 100,
                    "json": [{"path": "$.a", "contains": "x"}],
                },
            }
        ],
    }
    (suite,), errors = read_suites(raw)
    assert errors == [] and to_json(suite) == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 5000 + b"]" * 5000, "nests deeper than 64"),
        (b'{"name": "\\ud800", "cases": []}', "unpaired surrogate"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not JSON"),
        (b"NaN", "not JSON"),
        (b" " * (MAX_FILE_BYTES + 1), "larger than 2 MB"),
    ],
)
def test_unreadable_files_get_one_clear_error(raw, message):
    with pytest.raises(SuiteError, match=message):
        parse_file(raw)


def test_bad_entries_are_named_and_good_suites_kept():
    raw = {
        "suites": [
            {"name": "good", "cases": [{"function": GREETING}]},
            {
                "name": "bad",
                "cases": [
                    {"function": "not-a-uuid"},
                    {"event": "e", "expect": {"status": "200"}},
                    {"event": "e", "expect": {"json": [{"path": "$.a", "matches": "("}]}},
                    {"event": "e", "expect": {"json": [{"path": "a b", "equals": 1}]}},
                    {"function": GREETING, "event": "e"},
                ],
            },
            "not a suite",
        ]
    }
    suites, errors = read_suites(raw)
    assert [s.name for s in suites] == ["good"]
    assert errors[0].startswith('suite 2: "bad": case 1: "function" is not a valid UUID')
    for part in ("case 2:", 'case 3: "matches" pattern', "case 4: the path", "case 5: give"):
        assert part in errors[0]
    assert errors[1] == "suite 3: not an object"


def test_paths_reach_into_lists_and_objects_only():
    assert at_path([{"a": "x"}], "$[0].a") == "x"
    assert at_path({"a": "x"}, "$[0]") is MISSING
    assert at_path(json.loads('{"a b": 2}'), '$["a b"]') == 2
