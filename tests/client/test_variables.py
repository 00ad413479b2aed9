"""The one resolver of {{variables}}: how values are inserted, built-ins, unknown names, masks."""

import json
import re
import time

import pytest

from liveperson_functions.suites import read_case
from liveperson_functions.variables import MASK
from liveperson_functions.variables import Resolver
from liveperson_functions.variables import UnknownVariable
from liveperson_functions.variables import Variable
from liveperson_functions.variables import VariableError
from liveperson_functions.variables import read_variables
from liveperson_functions.variables import resolve_case


def resolver(**values):
    return Resolver(read_variables(values))


def test_inside_quotes_a_value_is_string_content_escaped_as_json():
    done = resolver(name='Ada "the" \\ first').json('{"greeting": "Hi {{name}}!"}')

    assert json.loads(done.text) == {"greeting": 'Hi Ada "the" \\ first!'}


def test_outside_quotes_a_value_is_json_text_a_number_an_object_or_true():
    found = resolver(count=5, order={"id": 7}, flag=True)
    done = found.json('{"n": {{count}}, "order": {{ order }}, "ok": {{flag}}}')

    assert json.loads(done.text) == {"n": 5, "order": {"id": 7}, "ok": True}


def test_built_ins_fill_uuid_timestamps_and_a_random_int():
    before = int(time.time() * 1000)
    done = Resolver().json(
        '{"id": "{{$uuid}}", "ms": {{$timestamp}}, "iso": "{{$isoTimestamp}}", '
        '"r": {{$randomInt}}}'
    )
    value = json.loads(done.text)

    assert re.fullmatch(r"[0-9a-f-]{36}", value["id"])
    assert before <= value["ms"] <= int(time.time() * 1000)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value["iso"])
    assert 0 <= value["r"] <= 1000


def test_an_unknown_variable_is_named():
    with pytest.raises(UnknownVariable) as caught:
        resolver(a="1").json('{"x": "{{a}}", "y": "{{conversationId}}", "z": {{zz}}}')

    assert caught.value.names == ["conversationId", "zz"]
    assert "{{conversationId}}" in str(caught.value)


def test_secrets_are_masked_where_shown_but_sent_whole():
    found = Resolver(
        {"key": Variable("key", 's3cr"et', secret=True), "who": Variable("who", "Ada")}
    )
    done = found.json('{"k": "{{key}}", "w": "{{who}}"}')

    assert json.loads(done.text) == {"k": 's3cr"et', "w": "Ada"}
    assert done.shown == '{"k": "' + MASK + '", "w": "Ada"}'
    assert found.mask('echo: s3cr\\"et and s3cr"et') == f"echo: {MASK} and {MASK}"
    assert found.text("Bearer {{key}}").shown == f"Bearer {MASK}"


def test_text_with_braces_but_no_variable_is_left_alone():
    assert Resolver().json('{"t": "{{ not a name }}"}').text == '{"t": "{{ not a name }}"}'


def test_environment_files_in_three_shapes():
    ours = read_variables({"variables": [{"name": "a", "value": "1", "secret": True}]})
    postman = read_variables(
        {"values": [{"key": "a", "value": "1", "type": "secret"}, {"key": "b", "enabled": False}]}
    )
    flat = read_variables({"a": "1"})

    assert ours == postman == {"a": Variable("a", "1", True)}
    assert flat == {"a": Variable("a", "1", False)}
    with pytest.raises(VariableError, match="not a variable name"):
        read_variables({"bad name": "x"})


def test_a_suite_case_is_resolved_inside_its_strings():
    case = read_case(
        {
            "function": "5290e51d-6fde-46f6-bea4-07b65e0f2f28",
            "payload": {"id": "{{id}}"},
            "headers": {"x-key": "{{key}}"},
        }
    )
    found = Resolver({"id": Variable("id", "c-1"), "key": Variable("key", "k", secret=True)})

    filled, shown = resolve_case(case, found)

    assert filled.payload == {"id": "c-1"} and filled.headers == {"x-key": "k"}
    assert MASK not in json.dumps(filled.payload) and shown == '{"id": "c-1"}'
