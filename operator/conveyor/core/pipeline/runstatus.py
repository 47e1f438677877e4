"""A PipelineRun's status as read and written: compact, one entry per step.

Pure: no I/O. The entries hold only what a user reads and what must outlive
a child (a succeeded item's outputs, a failed item's index), never a child's
whole status, so a run of 20 steps and 256 fan-out items stays far below the
object size limit. Conditions are the PipelineJob's (core/status), so kstatus
reads runs and jobs alike.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import conditions, model, status
from conveyor.core.pipeline import dag


class StepReason(enum.StrEnum):
    """status.steps[].reason: why the entry says what it says (with its message)."""

    SUCCEEDED = "Succeeded"
    REUSED = "Reused"  # succeeded in the earlier run (resumeFrom)
    DEPENDENCY_FAILED = "DependencyFailed"  # Skipped: a dependency FAILED or was REVOKED
    WHEN_FALSE = "WhenFalse"  # Skipped: its `when` is false
    RUN_STOPPED = "RunStopped"  # Skipped: the run was revoked or timed out first
    INVALID_SPEC = "InvalidSpec"  # FAILED on its definition (a bad forEach): so is the run
    RENDER_FAILED = "RenderFailed"  # FAILED: a template did not render
    JOB_FAILED = "JobFailed"  # a child PipelineJob FAILED
    REVOKED = "Revoked"  # a child PipelineJob was revoked (or the run stopped it)


def _reason(value: Any) -> StepReason | None:
    try:
        return StepReason(value) if value else None
    except ValueError:  # written by a newer operator: unknown here
        return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepStatus:
    """One entry of status.steps."""

    name: str
    state: dag.StepState = dag.StepState.PENDING
    jobs: tuple[str, ...] = ()  # child PipelineJobs, in item order
    # A step's outputs (a mapping); a fan-out step's, a list in item order with
    # None for an item that has not succeeded (yet).
    outputs: Any = None
    items: int | None = None  # a fan-out step's number of items, once known
    failed_items: tuple[int, ...] = ()  # fan-out items that ended FAILED or REVOKED
    reason: StepReason | None = None  # set with `message`, and on every finished entry
    message: str | None = None
    reused_from: str | None = None  # the earlier run whose result this is (resume)
    final: bool = False  # a `finally` step

    def item_succeeded(self, index: int) -> bool:
        outputs = self.outputs
        return isinstance(outputs, list) and index < len(outputs) and outputs[index] is not None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "state": str(self.state),
            "reason": str(self.reason) if self.reason else None,
            "jobs": list(self.jobs) or None,
            "outputs": self.outputs,
            "items": self.items,
            "failedItems": list(self.failed_items) or None,
            "message": self.message,
            "reusedFrom": self.reused_from,
            "finally": self.final or None,
        }
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepStatus:
        try:
            state = dag.StepState(data.get("state") or "Pending")
        except ValueError:
            state = dag.StepState.PENDING
        items = data.get("items")
        return cls(
            name=str(data.get("name") or ""),
            state=state,
            jobs=tuple(str(j) for j in data.get("jobs") or ()),
            outputs=data.get("outputs"),
            items=items if isinstance(items, int) else None,
            failed_items=tuple(i for i in data.get("failedItems") or () if isinstance(i, int)),
            reason=_reason(data.get("reason")),
            message=data.get("message") or None,
            reused_from=data.get("reusedFrom") or None,
            final=data.get("finally") is True,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunStatus:
    """status of a PipelineRun, as the core reads and writes it."""

    state: model.State | None = None
    reason: str | None = None
    message: str | None = None
    steps: tuple[StepStatus, ...] = ()
    progress: str | None = None  # "done/total" steps, for the printer column
    started_at: str | None = None
    finished_at: str | None = None
    # The resolved definition the run works from (recorded once; see resolution).
    pipeline_spec: Mapping[str, Any] | None = None
    pipeline_generation: int | None = None
    resumed_from: str | None = None
    observed_generation: int = 0

    def step(self, name: str) -> StepStatus | None:
        return next((s for s in self.steps if s.name == name), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunStatus:
        data = data or {}
        state = data.get("state")
        try:
            parsed = model.State(state) if state else None
        except ValueError:
            parsed = None
        generation = data.get("pipelineGeneration")
        return cls(
            state=parsed,
            reason=data.get("reason") or None,
            message=data.get("message") or None,
            steps=tuple(StepStatus.from_dict(s) for s in data.get("steps") or ()),
            progress=data.get("progress") or None,
            started_at=data.get("startedAt"),
            finished_at=data.get("finishedAt"),
            pipeline_spec=data.get("pipelineSpec"),
            pipeline_generation=generation if isinstance(generation, int) else None,
            resumed_from=data.get("resumedFrom") or None,
            observed_generation=int(data.get("observedGeneration") or 0),
        )

    def to_dict(
        self,
        *,
        generation: int,
        previous_conditions: Sequence[Mapping[str, Any]],
        now: datetime.datetime,
    ) -> dict[str, Any]:
        """The whole status to write (kstatus conditions included)."""
        fields = {
            "state": str(self.state) if self.state else None,
            "reason": self.reason,
            "message": self.message,
            "steps": [s.to_dict() for s in self.steps],
            "progress": self.progress,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "pipelineSpec": dict(self.pipeline_spec) if self.pipeline_spec is not None else None,
            "pipelineGeneration": self.pipeline_generation,
            "resumedFrom": self.resumed_from,
            "observedGeneration": generation,
        }
        as_job = model.JobStatus(state=self.state, reason=self.reason, message=self.message)
        return conditions.status_dict(
            fields=fields,
            conditions=status.conditions(
                status=as_job, generation=generation, previous=previous_conditions, now=now
            ),
        )


def progress(steps: Sequence[StepStatus]) -> str:
    """`done/total`: finished steps (skipped ones included) of all, finally included."""
    done = sum(1 for s in steps if s.state.finished)
    return f"{done}/{len(steps)}"
