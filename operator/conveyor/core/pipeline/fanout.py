"""Fan-out: a step's `forEach` rendered to its items, and how many may start now.

Pure: no I/O. Items are rendered from params and earlier steps' outputs, which
no longer change once the step may run, so rendering again gives the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conveyor.core.pipeline import expressions, spec

MAX_ITEMS = 256


class InvalidItems(expressions.ExpressionError):
    """forEach rendered, but not to a list of at most MAX_ITEMS: the definition
    is wrong (InvalidSpec), unlike a template that fails to render (StepFailed)."""


def items(*, step: spec.Step, context: Mapping[str, Any], field: str) -> list[Any] | None:
    """The step's items, or None for a step without forEach.

    Raises ExpressionError for a template that fails to render, and
    InvalidItems for a value that is not a list or has more than MAX_ITEMS items.
    """
    if step.for_each is None:
        return None
    value = expressions.render_value(value=step.for_each, context=context, field=field)
    if not isinstance(value, list):
        raise InvalidItems(
            field=field, message=f"must render to a list, not {type(value).__name__}: {value!r:.80}"
        )
    if len(value) > MAX_ITEMS:
        raise InvalidItems(
            field=field, message=f"renders to {len(value)} items, more than {MAX_ITEMS}"
        )
    return value


def room(*, max_parallel: int, active: int, run_slots: int | None) -> int:
    """How many more of a step's items may start: its maxParallel and the run's slots."""
    own = max_parallel - active if max_parallel > 0 else None
    limits = [n for n in (own, run_slots) if n is not None]
    return max(0, min(limits)) if limits else 1_000_000
