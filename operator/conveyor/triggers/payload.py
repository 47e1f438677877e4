"""Decode a delivery's body, refusing JSON nested deeper than MAX_DEPTH.

Pure. `core.safejson` decodes any depth (where `json.loads` would raise
RecursionError, about 1,000 levels, it cuts what is nested too deep); then
anything nested deeper than MAX_DEPTH is refused, checked without recursion.
Forges nest their payloads less than 10 deep; nothing later (templates,
`when`, JSON encoding of what they render) meets a deep structure.

GitHub may send `application/x-www-form-urlencoded` with the JSON in the
`payload` field; that is decoded too (the signature covers the raw body).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from conveyor.core import safejson

MAX_DEPTH = 64  # below safejson.KEEP_DEPTH, so a cut body is refused too
_FORM = "application/x-www-form-urlencoded"


class PayloadError(Exception):
    """The body is not a JSON object this receiver accepts; the message says why."""


def deeper_than(value: Any, *, limit: int) -> bool:
    """True if non-empty objects and arrays in `value` nest more than `limit` deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if child and isinstance(child, dict | list):  # an empty one adds no level below
                if level + 1 > limit:
                    return True
                stack.append((child, level + 1))
    return False


def decode(*, body: bytes, content_type: str) -> dict[str, Any]:
    """The payload as a dict; PayloadError if it is not a JSON object or too deep."""
    data = body
    if content_type.split(";")[0].strip().lower() == _FORM:
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=100)
        if "payload" not in fields:
            raise PayloadError("a form-encoded delivery must have a payload field")
        data = fields["payload"][0].encode()
    try:
        value = safejson.loads(data)
    except ValueError as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PayloadError(f"the JSON is a {type(value).__name__}, not an object")
    if deeper_than(value, limit=MAX_DEPTH):
        raise PayloadError(f"the JSON is nested more than {MAX_DEPTH} deep")
    return value
