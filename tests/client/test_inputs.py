"""The nesting scanner that guards every JSON parse of user text, forms and suite files alike."""

import pytest

from liveperson_functions.inputs import json_depth


@pytest.mark.parametrize(
    ("text", "deepest"),
    [
        ("{}", 1),
        ('[[{"x": [1]}]]', 4),
        # Brackets inside strings do not count, even after an escaped quote.
        ('["a\\"[[[", 1]', 1),
        ('{"k": "\\\\"}', 1),
        ('"[[["', 0),
        ("[" * 100_000 + "]" * 100_000, 100_000),
    ],
)
def test_json_depth_counts_only_structure(text, deepest):
    assert json_depth(text) == deepest
