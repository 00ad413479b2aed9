"""A result as the result page shows it: JSON indented by two, whatever the function answered."""

import json

import pytest

from app.console.invoke import shown
from app.history.views import as_compact_json


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, 1.5e16, None, True, {}], "é": 'x\u2028<"'},
        {"lone": "x\ud800"},  # a function may answer "\ud800" (valid JSON)
        {"nan": float("nan")},  # json.loads takes NaN from a sloppy answer
        [],
        10**30,
    ],
)
def test_a_result_reads_as_json_indented_by_two(value):
    assert shown(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_text_is_shown_as_it_came():
    assert shown("plain text") == "plain text"


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ('{\n  "a": [\n    1,\n    "é"\n  ]\n}', '{"a":[1,"é"]}'),
        ("plain text", ""),
        ('"x\ud800"', ""),
    ],
)
def test_the_raw_view_is_compact_json_or_nothing(text, raw):
    assert as_compact_json(text) == raw
