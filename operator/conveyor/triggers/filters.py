"""Which deliveries start something: events, branches, tags, changed paths, `when`.

Pure. Branches, tags and paths are globs as in GitHub Actions: `*` matches
within one path segment, `**` across segments, `?` one character; a pattern
starting with `!` excludes what matches it, and the last matching pattern
decides. Like GitHub Actions, a trigger that lists only branches ignores tag
pushes, and one that lists only tags ignores branch pushes. A `paths` filter
applies only where the payload lists every changed file (pushes of at most
20 commits); elsewhere it lets the delivery through, since a skipped build is
worse than an extra one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core.pipeline import expressions
from conveyor.triggers import deliveries, spec

WHEN_FIELD = "spec.filters.when"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    accepted: bool
    reason: str = ""  # CamelCase, when filtered
    message: str = ""


ACCEPT = Verdict(accepted=True)


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def glob(pattern: str, value: str) -> bool:
    return _regex(pattern).fullmatch(value) is not None


def matches(patterns: Sequence[str], value: str) -> bool:
    """GitHub Actions' rule: the last pattern that matches decides (`!` excludes)."""
    result = all(p.startswith("!") for p in patterns)
    for pattern in patterns:
        if pattern.startswith("!"):
            if glob(pattern[1:], value):
                result = False
        elif glob(pattern, value):
            result = True
    return result


def check(
    *, filters: spec.Filters, delivery: deliveries.Delivery, context: Mapping[str, Any]
) -> Verdict:
    """Accepted, or filtered with a reason. ExpressionError if `when` fails to run."""
    events = filters.events_for(delivery.source)
    if events and delivery.event not in events:
        return Verdict(
            accepted=False,
            reason="EventFiltered",
            message=f"event {delivery.event or '(none)'} is not one of {', '.join(events)}",
        )
    if delivery.deleted:
        return Verdict(
            accepted=False, reason="RefDeleted", message=f"the push deletes {delivery.ref}"
        )
    verdict = _refs(filters=filters, delivery=delivery)
    if not verdict.accepted:
        return verdict
    changed = delivery.changed
    if filters.paths and changed is not None and not _any_path(filters.paths, changed):
        return Verdict(
            accepted=False,
            reason="PathsFiltered",
            message=f"none of the {len(changed)} changed files matches spec.filters.paths",
        )
    if filters.when and not expressions.evaluate_when(
        text=filters.when, context=context, field=WHEN_FIELD
    ):
        return Verdict(accepted=False, reason="WhenFalse", message="spec.filters.when is false")
    return ACCEPT


def _any_path(patterns: Sequence[str], paths: Sequence[str]) -> bool:
    return any(matches(patterns, path) for path in paths)


def _refs(*, filters: spec.Filters, delivery: deliveries.Delivery) -> Verdict:
    if delivery.tag is not None:
        if filters.tags:
            if matches(filters.tags, delivery.tag):
                return ACCEPT
            return _ref_filtered(f"tag {delivery.tag} matches no pattern of spec.filters.tags")
        if filters.branches:
            return _ref_filtered(f"tag {delivery.tag}: the trigger lists branches, not tags")
        return ACCEPT
    if delivery.branch is not None:
        if filters.branches:
            if matches(filters.branches, delivery.branch):
                return ACCEPT
            return _ref_filtered(
                f"branch {delivery.branch} matches no pattern of spec.filters.branches"
            )
        if filters.tags:
            return _ref_filtered(f"branch {delivery.branch}: the trigger lists tags, not branches")
    elif filters.branches or filters.tags:
        return _ref_filtered("the event names no branch or tag")
    return ACCEPT


def _ref_filtered(message: str) -> Verdict:
    return Verdict(accepted=False, reason="RefFiltered", message=message)
