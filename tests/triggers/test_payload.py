"""Payload decoding: JSON objects, GitHub's form encoding, and nothing too deep."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from conveyor.core import safejson
from conveyor.triggers import payload


def nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * (depth - 1) + b"1" + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("depth", "accepted"),
    [
        (2, True),
        (payload.MAX_DEPTH, True),
        (payload.MAX_DEPTH + 1, False),
        (1_000, False),
        (100_000, False),
    ],
)
def test_depth(depth: int, accepted: bool) -> None:
    if accepted:
        assert payload.decode(body=nested(depth), content_type="application/json")
    else:
        with pytest.raises(payload.PayloadError, match="nested more than 64 deep"):
            payload.decode(body=nested(depth), content_type="application/json")


def test_deeper_than_counts_without_recursion() -> None:
    value: list[object] = [1]
    for _ in range(50_000):
        value = [value]
    assert payload.deeper_than(value, limit=64)
    assert not payload.deeper_than({"a": [{"b": []}]}, limit=3)


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"[1, 2]", "a list, not an object"), (b"not json", "not JSON"), (b"", "not JSON")],
)
def test_refused(body: bytes, message: str) -> None:
    with pytest.raises(payload.PayloadError, match=message):
        payload.decode(body=body, content_type="application/json")


def test_github_form_encoding() -> None:
    body = urllib.parse.urlencode({"payload": json.dumps({"ref": "refs/heads/main"})}).encode()
    decoded = payload.decode(body=body, content_type="application/x-www-form-urlencoded")
    assert decoded == {"ref": "refs/heads/main"}
    with pytest.raises(payload.PayloadError, match="payload field"):
        payload.decode(body=b"x=1", content_type="application/x-www-form-urlencoded")


def test_the_limit_is_below_what_safejson_keeps() -> None:
    # safejson cuts containers deeper than KEEP_DEPTH; such a body must still be refused.
    assert payload.MAX_DEPTH < safejson.KEEP_DEPTH
    with pytest.raises(payload.PayloadError):
        payload.decode(body=nested(safejson.KEEP_DEPTH + 5_000), content_type="application/json")
