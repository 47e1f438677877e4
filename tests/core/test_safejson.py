"""safejson: JSON that no depth of nesting can crash."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.core import bounds, safejson


def deep_text(depth: int, *, opener: str = '{"k":', closer: str = "}") -> str:
    return opener * depth + "1" + closer * depth


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"a": [1, 2.5, "x", None, True]}, id="plain"),
        pytest.param({"s": 'brackets {[ in "strings" ]} \\'}, id="brackets in strings"),
        pytest.param({"u": "é\u2028😀"}, id="unicode"),
    ],
)
def test_ordinary_json_decodes_as_json_loads(value: Any) -> None:
    text = json.dumps(value)
    assert safejson.loads(text) == json.loads(text)
    assert safejson.loads(text.encode()) == value


@pytest.mark.parametrize("depth", [1_000, 10_000, 100_000])
@pytest.mark.parametrize(
    ("opener", "closer"), [('{"k":', "}"), ("[", "]")], ids=["objects", "arrays"]
)
def test_deep_json_decodes_with_the_deep_part_cut(depth: int, opener: str, closer: str) -> None:
    text = '{"metadata": {"name": "x"}, "spec": ' + deep_text(depth, opener=opener, closer=closer)
    text += ', "after": 2}'
    with pytest.raises(RecursionError):
        json.loads(text)
    body = safejson.loads(text)
    # What is shallow survives, so the object's status can say what is wrong.
    assert body["metadata"] == {"name": "x"}
    assert body["after"] == 2
    path = bounds.too_deep(body, limit=safejson.KEEP_DEPTH + 1)
    assert path is None
    assert bounds.too_deep(body["spec"], limit=bounds.MAX_DEPTH) is not None


def test_scrub_keeps_depth_up_to_keep() -> None:
    assert safejson.scrub("[[[1]]]", keep=2) == '[["' + safejson.TOO_DEEP + '"]]'
    assert safejson.scrub('{"a": {"b": [1]}, "c": "}"}', keep=1) == (
        '{"a": "' + safejson.TOO_DEEP + '", "c": "}"}'
    )
    assert safejson.scrub("[[1]]", keep=5) == "[[1]]"


def test_malformed_json_is_still_an_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        safejson.loads('{"a": ')
