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


# loads_api: what the API server sends, through orjson when it is shallow.

API_LIKE = [
    pytest.param({"a": [1, 2.5, "x", None, True]}, id="plain"),
    pytest.param({"s": 'brackets {[ in "strings" ]} \\'}, id="brackets in strings"),
    pytest.param({"u": "é\u2028😀"}, id="unicode"),
    pytest.param({"i": [2**63 - 1, -(2**63), 1.2345678901234568e29]}, id="int64 and float64"),
    pytest.param(
        {"items": [{"metadata": {"name": f"p{i}"}} for i in range(1_000)]}, id="long list"
    ),
]


@pytest.mark.parametrize("value", API_LIKE)
def test_api_answers_decode_as_json_loads(value: Any) -> None:
    text = json.dumps(value)
    assert safejson.loads_api(text) == json.loads(text)
    assert safejson.loads_api(text.encode()) == value


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"n": NaN, "i": Infinity}', id="NaN and Infinity"),
        pytest.param('{"s": "\\ud800"}', id="lone surrogate"),
        pytest.param('{"a": 1, "a": 2}', id="duplicate key: the last wins"),
        pytest.param('{"f": 1e400}', id="float overflow"),
    ],
)
def test_what_orjson_refuses_decodes_as_json_loads_does(text: str) -> None:
    assert safejson.loads_api(text) == json.loads(text)


@pytest.mark.parametrize(
    "depth", [safejson.FAST_BRACKETS - 1, safejson.FAST_BRACKETS, safejson.FAST_BRACKETS + 1]
)
def test_either_side_of_the_fast_paths_bracket_count_decodes_the_same(depth: int) -> None:
    text = deep_text(depth, opener="[", closer="]")
    assert safejson.loads_api(text) == json.loads(text)


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_deep_api_answers_are_cut_as_loads_cuts_them(depth: int) -> None:
    text = '{"metadata": {"name": "x"}, "spec": ' + deep_text(depth) + "}"
    assert safejson.loads_api(text) == safejson.loads(text)
    assert safejson.loads_api(text)["metadata"] == {"name": "x"}


@pytest.mark.parametrize("text", ['{"a": ', "[1, 2", "", "{'a': 1}", '{"a": 1} x'])
@pytest.mark.parametrize("decode", [safejson.loads, safejson.loads_api])
def test_malformed_json_raises_json_decode_error(text: str, decode: Any) -> None:
    with pytest.raises(json.JSONDecodeError):
        decode(text)
    with pytest.raises(json.JSONDecodeError):
        decode(text + "[" * safejson.FAST_BRACKETS)
