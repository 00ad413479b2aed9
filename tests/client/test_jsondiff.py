"""The JSON-aware diff behind "compare two runs"."""

import json

from liveperson_functions.jsondiff import MAX_CHANGES
from liveperson_functions.jsondiff import Change
from liveperson_functions.jsondiff import compare


def test_changed_added_and_removed_paths():
    before = {"a": 1, "b": {"c": [1, 2, 3], "odd key": True}, "gone": "x"}
    after = {"a": 2, "b": {"c": [1, 5], "odd key": True}, "new": None}
    changes, is_json = compare(json.dumps(before), json.dumps(after))
    assert is_json
    assert changes == [
        Change("$.a", "changed", "1", "2"),
        Change("$.b.c[1]", "changed", "2", "5"),
        Change("$.b.c[2]", "removed", "3", None),
        Change("$.gone", "removed", '"x"', None),
        Change("$.new", "added", None, "null"),
    ]


def test_json_equality_not_text_equality():
    assert compare('{"a": 1, "b": 2}', '{"b":2,"a":1.0}') == ([], True)
    (change,), _ = compare('{"a": true}', '{"a": 1}')
    assert change.path == "$.a" and change.kind == "changed"
    (change,), _ = compare('{"x y": {"é": 1}}', '{"x y": {"é": 2}}')
    assert change.path == '$["x y"]["é"]'


def test_long_strings_are_diffed_by_line():
    before = "\n".join(f"line {n}" for n in range(10))
    after = before.replace("line 5", "line five")
    (change,), _ = compare(json.dumps({"log": before}), json.dumps({"log": after}))
    assert "-line 5" in change.lines and "+line five" in change.lines
    assert " line 4" in change.lines and "line 0" not in " ".join(change.lines)


def test_text_that_is_not_json_is_diffed_by_line():
    changes, is_json = compare("hello\nworld", "hello\nthere")
    assert not is_json
    assert changes[0].path == "(text)" and changes[0].lines[-2:] == ("-world", "+there")
    assert compare("same", "same") == ([], False)


def test_the_number_of_changes_is_bounded():
    before = json.dumps(list(range(MAX_CHANGES + 50)))
    after = json.dumps([n + 1 for n in range(MAX_CHANGES + 50)])
    changes, _ = compare(before, after)
    assert len(changes) == MAX_CHANGES
