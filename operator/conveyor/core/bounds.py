"""The limits on what a user's object may hold, and the checks that apply them.

Pure: no I/O, and no recursion: an object nested as deep as the API server
allows (its JSON decoder stops at 10,000 levels) is walked iteratively, so
checking it cannot raise RecursionError. The CRD schemas state the same
bounds where OpenAPI and CEL can; docs/security.md has the table.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

# Nesting below spec (spec.params.values.a.b... counts from `params`). A pod
# spec is about 10 deep (affinity is the deepest); Helm values rarely pass 10.
MAX_DEPTH = 32
# A condition's message (metav1.Condition) is at most this long; status.message too.
MAX_MESSAGE = 32_768
# A field path in a message: enough to find the field, never the whole value.
MAX_FIELD = 512
TRUNCATED = "… (truncated)"
# The latest time a spec may give (startAt): far below where adding a
# duration to it overflows datetime. The longest duration is durations.MAX.
LATEST = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)
# A path printed in an error names at most this many steps, each shortened.
_PATH_STEPS = 8
_STEP = 64

Path = tuple[str | int, ...]


def fit(text: str, *, limit: int = MAX_MESSAGE) -> str:
    """`text`, cut to at most `limit` characters with a note when it was longer."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def too_deep(value: Any, *, limit: int = MAX_DEPTH) -> Path | None:
    """The path to a value nested more than `limit` levels below `value`, or None."""
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Mapping):
            children: Iterable[tuple[str | int, Any]] = ((str(k), v) for k, v in node.items())
        elif isinstance(node, list | tuple):
            children = enumerate(node)
        else:
            continue
        for step, child in children:
            if len(path) >= limit:
                return (*path, step)
            stack.append((child, (*path, step)))
    return None


def path_text(prefix: str, path: Path) -> str:
    """A path as users write it (`spec.params.a[0].b`), shortened: a path into a
    deep value can be longer than a status may hold."""
    text = prefix
    for step in path[:_PATH_STEPS]:
        text += f"[{step}]" if isinstance(step, int) else f".{fit(step, limit=_STEP)}"
    if len(path) > _PATH_STEPS:
        text += f"… ({len(path) - _PATH_STEPS} more levels)"
    return text


def deep_error(prefix: str, value: Any, *, limit: int = MAX_DEPTH) -> tuple[str, str] | None:
    """(field, message) when `value` is nested too deep, else None."""
    path = too_deep(value, limit=limit)
    if path is None:
        return None
    where = path_text(prefix, path[:limit])
    return where, f"is nested deeper than {limit} levels; flatten it"


def spec_too_deep(
    spec: Mapping[str, Any], *, prefix: str, deep: tuple[str, ...]
) -> tuple[str, str] | None:
    """(field, message) when a free-form field of `spec` (params, podTemplate,
    ...) or the spec as a whole is nested too deep, checked before anything
    recursive (pydantic, deepcopy, json.dumps) sees it."""
    for name in deep:
        found = deep_error(f"{prefix}.{name}", spec.get(name))
        if found is not None:
            return found
    return deep_error(prefix, spec, limit=MAX_DEPTH + 4)


def in_time(value: datetime.datetime) -> datetime.datetime:
    """An aware time as UTC, before LATEST; ValueError past it."""
    latest = LATEST.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        utc = value.astimezone(datetime.UTC)
    except OverflowError:  # 9999-12-31T23:59:59-12:00 is in the year 10000
        raise ValueError(f"must be before {latest}") from None
    if utc >= LATEST:
        raise ValueError(f"must be before {latest}")
    return utc
