"""fields: a body's field of the wrong type reads as unset, never raises."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import fields


@pytest.mark.parametrize(
    ("value", "text", "count", "mapping", "mappings", "strings"),
    [
        ("a", "a", 0, {}, [], {}),
        ("", None, 0, {}, [], {}),
        (3, None, 3, {}, [], {}),
        (True, None, 0, {}, [], {}),  # a bool is not a count
        (-1, None, 0, {}, [], {}),
        (2**70, None, 0, {}, [], {}),
        ({"a": "b", "c": 1}, None, 0, {"a": "b", "c": 1}, [], {"a": "b"}),
        ([{"a": 1}, "x", 2], None, 0, {}, [{"a": 1}], {}),
        (None, None, 0, {}, [], {}),
    ],
)
def test_a_field_reads_as_its_type_or_unset(
    value: Any, text: Any, count: int, mapping: Any, mappings: Any, strings: Any
) -> None:
    assert fields.text(value) == text
    assert fields.count(value) == count
    assert fields.mapping(value) == mapping
    assert fields.mappings(value) == mappings
    assert fields.strings(value) == strings
