"""Strict checks of what people type into invoke forms (reference §5.4)."""

import pytest
from werkzeug.datastructures import MultiDict

from app.console.forms import PayloadError
from app.console.forms import check_event_id
from app.console.forms import parse_payload
from app.console.forms import read_invoke_form


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{a:1}", "Expecting property name enclosed in double quotes at line 1, column 2"),
        ("'x'", "Expecting value at line 1, column 1"),
        ('{"a": 1,}', "line 1, column 9"),
        ('{\n  "a": 1\n  "b": 2\n}', "line 3, column 3"),
        ("", "the payload is empty"),
        ("   \n ", "the payload is empty"),
        ("NaN", "NaN is not a JSON number"),
        ('{"x": Infinity}', "Infinity is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ("1e999999", "too large to be a finite number"),
        ("1" * 5000, "more than 100 digits"),
        ("[" * 100_000, "nests deeper than 64 levels"),
        ('{"a": 1, "a": 2}', 'the key "a" appears twice'),
        ('"' + "x" * 300_000 + '"', "larger than 256 KB"),
    ],
)
def test_bad_payloads_say_what_and_where(text, message):
    with pytest.raises(PayloadError, match=message):
        parse_payload(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{}", {}),
        ('{"name": "Ana", "n": 1.5, "ok": true, "none": null}', None),
        ('"[[[[ not nesting inside a string"', "[[[[ not nesting inside a string"),
        ("[" * 64 + "]" * 64, None),
        ('{"a": {"b": ["\\"{"]}}', {"a": {"b": ['"{']}}),
    ],
)
def test_good_payloads_parse(text, value):
    parsed = parse_payload(text)
    if value is not None:
        assert parsed == value


def form(**fields):
    data = MultiDict()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(key, item)
    return data


def test_form_keeps_what_was_typed_on_error():
    checked = read_invoke_form(form(payload="{oops", header_name=["a"], header_value=["1"]))
    assert checked.payload_text == "{oops"
    assert checked.headers == [("a", "1")]
    assert "line 1, column 2" in checked.errors["payload"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Ok", "line1\r\nInjected: 1", "must be one line"),
        ("X-Ok", "v" * 10_000, "must be one line of at most 1024"),
        ("Bad Name", "v", "is not valid"),
        ("X-\r\nOk", "v", "is not valid"),
    ],
)
def test_header_rows_are_checked(name, value, message):
    checked = read_invoke_form(form(payload="{}", header_name=[name], header_value=[value]))
    assert message in checked.errors["headers"]


def test_empty_header_rows_are_dropped_and_extra_fields_ignored():
    checked = read_invoke_form(
        form(
            payload="{}",
            header_name=["", "X-One"],
            header_value=["", "1"],
            account_id="666",
            url="https://evil.test",
            Authorization="Bearer stolen",
        )
    )
    assert checked.errors == {}
    assert checked.header_dict() == {"X-One": "1"}


@pytest.mark.parametrize(
    "event_id",
    ["../admin", "a/b", "a?x=1", "a#b", "a%2Fb", "x" * 300, "a\u202eb", "a\u200bb", ""],
)
def test_event_ids_outside_the_allow_list_are_refused(event_id):
    assert check_event_id(event_id) is None


def test_skill_and_event_source_are_checked():
    checked = read_invoke_form(form(payload="{}", skill_id="1 2", event_source="a\r\nb"))
    assert "skill id" in checked.errors["skill_id"]
    assert "event source" in checked.errors["event_source"]
