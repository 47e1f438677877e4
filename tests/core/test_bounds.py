"""bounds: the limits on a user's object, checked without recursion."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core import bounds


def nested(depth: int, *, leaf: Any = 1, key: str = "k") -> Any:
    value = leaf
    for _ in range(depth):
        value = {key: value}
    return value


def nested_lists(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "limit", "path"),
    [
        pytest.param(1, 0, None, id="a scalar has no depth"),
        pytest.param({}, 0, None, id="an empty object"),
        pytest.param(nested(3), 3, None, id="exactly at the limit"),
        pytest.param(nested(4), 3, ("k", "k", "k", "k"), id="one past the limit"),
        pytest.param(nested_lists(3), 2, (0, 0, 0), id="lists count as levels"),
        pytest.param({"a": 1, "b": nested(5)}, 2, ("b", "k", "k"), id="the deep branch is found"),
        pytest.param(nested(10_000), 32, ("k",) * 33, id="as deep as the API server allows"),
    ],
)
def test_too_deep(value: Any, limit: int, path: bounds.Path | None) -> None:
    assert bounds.too_deep(value, limit=limit) == path


def test_too_deep_is_not_recursive() -> None:
    # Deeper than any recursion limit: a recursive walk would raise.
    assert bounds.too_deep(nested(200_000), limit=32) is not None


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("short", 10, "short", id="fits"),
        pytest.param("x" * 10, 10, "x" * 10, id="exactly the limit"),
        pytest.param("x" * 40, 20, "x" * 7 + bounds.TRUNCATED, id="cut with a note"),
    ],
)
def test_fit(text: str, limit: int, expected: str) -> None:
    assert bounds.fit(text, limit=limit) == expected
    assert len(bounds.fit(text, limit=limit)) <= limit


def test_a_million_characters_fit_a_condition_message() -> None:
    text = bounds.fit("é" * 1_048_576)
    assert len(text) == bounds.MAX_MESSAGE
    assert text.endswith("(truncated)")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(("a", 0, "b"), "spec.params.a[0].b", id="indexes in brackets"),
        pytest.param(("k",) * 10, "spec.params" + ".k" * 8 + "… (2 more levels)", id="long"),
        pytest.param(("x" * 100,), "spec.params." + "x" * 51 + bounds.TRUNCATED, id="long step"),
    ],
)
def test_path_text(path: bounds.Path, expected: str) -> None:
    assert bounds.path_text("spec.params", path) == expected


def test_deep_error_names_the_field() -> None:
    assert bounds.deep_error("spec.params", {"x": nested(100)}) == (
        "spec.params.x.k.k.k.k.k.k.k… (24 more levels)",
        "is nested deeper than 32 levels; flatten it",
    )
    assert bounds.deep_error("spec.params", {"x": nested(31)}) is None
