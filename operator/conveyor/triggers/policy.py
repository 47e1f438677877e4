"""Concurrency among the runs a trigger created for the same branch (group).

Pure. `Allow`: every accepted delivery creates its run. `Forbid`: not while
an earlier run of the group is unfinished (the delivery is skipped, 200).
`Replace`: the new run is created, then every earlier unfinished run of the
group is revoked. "Earlier" is by the receive time the receiver recorded on
each run (microseconds, then the name), one total order: two pushes arriving
at once never revoke each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model
from conveyor.triggers import objects, spec

_FINISHED = frozenset({model.State.SUCCESS, model.State.FAILED, model.State.REVOKED})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Run:
    name: str
    group: str
    received_at: str
    active: bool  # not finished and not asked to revoke

    @property
    def order(self) -> tuple[str, str]:
        return (self.received_at, self.name)


def run_of(body: Mapping[str, Any]) -> Run:
    md = body.get("metadata") or {}
    notes = md.get("annotations") or {}
    state = (body.get("status") or {}).get("state")
    revoking = (body.get("spec") or {}).get("revoke") is True
    return Run(
        name=str(md.get("name") or ""),
        group=str(notes.get(objects.GROUP_ANNOTATION) or ""),
        received_at=str(notes.get(objects.RECEIVED_ANNOTATION) or ""),
        active=state not in _FINISHED and not revoking,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    create: bool
    blocked_by: str = ""  # Forbid: the unfinished run that holds the group


def before_create(*, policy: spec.Policy, own: Run, others: Sequence[Run]) -> Decision:
    if policy is spec.Policy.FORBID:
        holders = sorted((r for r in _same_group(own, others) if r.active), key=lambda r: r.order)
        if holders:
            return Decision(create=False, blocked_by=holders[0].name)
    return Decision(create=True)


def to_revoke(*, policy: spec.Policy, own: Run, others: Sequence[Run]) -> tuple[str, ...]:
    """Replace: the earlier unfinished runs of the group, after `own` exists."""
    if policy is not spec.Policy.REPLACE:
        return ()
    earlier = (r for r in _same_group(own, others) if r.active and r.order < own.order)
    return tuple(sorted(r.name for r in earlier))


def replay_of(*, own: str, same_body: Sequence[str]) -> str:
    """The run an earlier delivery of this very body created ("" if none)."""
    return next((n for n in sorted(same_body) if n != own), "")


def _same_group(own: Run, others: Sequence[Run]) -> list[Run]:
    # The label holds a shortened form; the annotation the exact group.
    return [r for r in others if r.name != own.name and r.group == own.group]
