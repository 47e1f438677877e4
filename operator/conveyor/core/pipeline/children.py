"""A run's child PipelineJobs: reading the observed ones, writing the new ones.

Pure: no I/O. A child is read from its labels (which run, which step, which
item) and its status; a new child is a complete manifest, owner reference
included, so the controller only creates it (AlreadyExists means adoption).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pydantic

from conveyor.core import model
from conveyor.core.pipeline import expressions, naming, spec

API_VERSION = "conveyor.dev/v1alpha1"
_MESSAGE = 300  # of a child's message quoted in the run's


@dataclasses.dataclass(frozen=True, kw_only=True)
class Child:
    """What the run needs of one observed child PipelineJob."""

    name: str
    step: str
    index: int | None
    state: model.State | None
    reason: str | None = None
    outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    attempt: int = 0
    attempts_allowed: int = 1
    exit_code: int | None = None
    revoke_requested: bool = False
    message: str | None = None  # the child's status.message (why it is InvalidSpec, ...)

    @property
    def active(self) -> bool:
        return not (self.state is not None and self.state.finished)

    def failure(self) -> str:
        """How it went wrong, e.g. `attempt 3 of 3 (exit code 1)`."""
        if self.state is model.State.REVOKED:
            return "was revoked"
        detail = f"exit code {self.exit_code}" if self.exit_code is not None else self.reason
        if self.exit_code is None and self.reason == "InvalidSpec" and self.message:
            # No attempt ran: the job's own message says which field is wrong.
            return f"{self.message[:_MESSAGE]} (InvalidSpec)"
        head = f"attempt {self.attempt} of {self.attempts_allowed}"
        return f"{head} ({detail})" if detail else head


def parse(*, body: Mapping[str, Any], run: str) -> Child | None:
    """The child, or None when `body` is not a child of the run `run`."""
    md = body.get("metadata") or {}
    labels = md.get("labels") or {}
    if labels.get(naming.RUN_LABEL) != run or not labels.get(naming.STEP_LABEL):
        return None
    raw_index = labels.get(naming.INDEX_LABEL)
    index = int(raw_index) if isinstance(raw_index, str) and raw_index.isdigit() else None
    job = model.parse_pipelinejob(body)
    last = job.status.attempts[-1] if job.status.attempts else None
    return Child(
        name=str(md.get("name") or ""),
        step=str(labels[naming.STEP_LABEL]),
        index=index,
        state=job.status.state,
        reason=job.status.reason,
        outputs=dict(job.status.outputs),
        attempt=job.status.attempt,
        attempts_allowed=(job.spec.retry.limit + 1) if job.spec else 1,
        exit_code=last.exit_code if last else None,
        revoke_requested=bool((body.get("spec") or {}).get("revoke")),
        message=job.status.message,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewChild:
    """A child PipelineJob to create."""

    name: str
    step: str
    index: int | None
    manifest: dict[str, Any]


def job_spec(
    *, step: spec.Step, context: Mapping[str, Any], priority: int, field: str
) -> dict[str, Any]:
    """The step's job rendered for one item, checked as a PipelineJob spec.

    Raises ExpressionError naming the field (e.g. `steps[deploy].job.params.image`).
    """
    rendered = expressions.render_value(value=step.job, context=context, field=field)
    if not isinstance(rendered, dict):
        raise expressions.ExpressionError(field=field, message="must render to a mapping")
    rendered.setdefault("priority", priority)
    try:
        model.PipelineJobSpec.model_validate(rendered)
    except pydantic.ValidationError as exc:
        error = spec.error_from(exc, prefix=field)
        raise expressions.ExpressionError(field=error.field, message=error.message) from None
    return rendered


def new_child(*, run: model.Meta, step: str, index: int | None, job: dict[str, Any]) -> NewChild:
    name = naming.child_name(run=run.name, step=step, index=index)
    manifest = {
        "apiVersion": API_VERSION,
        "kind": "PipelineJob",
        "metadata": {
            "name": name,
            "namespace": run.namespace,
            "labels": naming.labels(run=run.name, step=step, index=index),
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "PipelineRun",
                    "name": run.name,
                    "uid": run.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job,
    }
    return NewChild(name=name, step=step, index=index, manifest=manifest)
