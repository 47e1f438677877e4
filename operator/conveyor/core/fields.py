"""Reading one field of a user's body without raising: a value of another
type reads as unset (the API server's schema refuses most such values; a
hand-made body, an older object or a status written by someone else may
still hold one).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text(value: Any) -> str | None:
    """A string field as read from a body: None if unset, empty or not a string."""
    return value if isinstance(value, str) and value else None


def count(value: Any) -> int:
    """A count or generation: 0 unless a sane non-negative integer."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
    return int(value) if ok else 0


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mapping(value: Any) -> Mapping[str, Any]:
    """An object field: {} unless it is one."""
    return value if isinstance(value, Mapping) else {}


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list field; other items are skipped."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def strings(value: Any) -> dict[str, str]:
    """A string-to-string map (labels): entries of other types are skipped."""
    items = mapping(value).items()
    return {k: v for k, v in items if isinstance(k, str) and isinstance(v, str)}
