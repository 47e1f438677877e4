"""When the operator writes: the policy between a decision and its API write.

Pure (no I/O, time passed in). The controllers ask here whether a step is
worth a write now, later or never; whether a waiting job's status should be
rewritten; and what an admission becomes when its Job cannot be made.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime

from conveyor.core import lifecycle, model, scheduling

# The Worker status fields that change with every admission; a patch of only
# these is batched (at most one a WORKER_STATUS_INTERVAL), anything else goes
# out at once.
COUNT_FIELDS = frozenset({"running", "queued", "message", "conditions"})
# Seconds between count-only Worker status writes: at 1 s a busy Worker cost
# about one write per job in a short drain; `kubectl get wk` lags 5 s at most
# (the operator's metrics are live), and a state change is not held back.
WORKER_STATUS_INTERVAL = 5.0
# Seconds an admission's status write waits for its pod to run: a pod that
# starts within them costs one write (RUNNING) instead of two (Starting,
# RUNNING), as the Job controller batches its own status updates. A pod that
# reports trouble before then (ErrImagePull, Unschedulable, ...) is written at
# once: "why is my job stuck" does not wait for the batch.
STATUS_BATCH = 5.0
# Pod waiting reasons of a pod on its normal way to running: no news.
STARTING_NORMALLY = frozenset({"", "ContainerCreating", "PodInitializing"})


def unchanged(*, job: model.PipelineJob, step: lifecycle.Step) -> bool:
    """The step changes nothing and does nothing (a spec edit not yet
    acknowledged in status counts as a change)."""
    return (
        step == lifecycle.Step(status=job.status, wake_at=step.wake_at)
        and job.status.observed_generation == job.meta.generation
    )


def only_starting(step: lifecycle.Step) -> bool:
    """The step keeps the job starting, with nothing to do but write."""
    return (
        step.status.state is model.State.IN_QUEUE
        and step.status.reason == model.Reason.STARTING
        and not (step.create_job or step.delete_job or step.delete_pipelinejob or step.events)
    )


def write_now(
    *,
    job: model.PipelineJob,
    step: lifecycle.Step,
    write_due: float | None,
    monotonic: float,
    waiting_reason: str | None = None,
) -> bool:
    """Whether to apply `step` now. An admitted job's status (assumed, not
    written; due at `write_due`) waits for its pod while nothing else
    happens and its pod (`waiting_reason`) reports no trouble; any other
    step is applied unless it changes nothing."""
    if write_due is not None:
        quiet = only_starting(step) and (waiting_reason or "") in STARTING_NORMALLY
        return not (monotonic < write_due and quiet)
    return not unchanged(job=job, step=step)


def rewrite_in(
    *,
    current: model.PipelineJob,
    pending: model.JobStatus,
    why: scheduling.Waiting,
    written_position: int | None,
    since_written: float,
    interval: float,
) -> float | None:
    """Seconds until a waiting job is rewritten with why it waits (see
    scheduling.rewrite_in): 0 for now, None for not at all."""
    old = current.status
    if (
        pending is old
        and old.reason == why.reason
        and old.worker == (why.worker or old.worker)
        and old.observed_generation == current.meta.generation
    ):
        # The usual case in a long queue: at most the message changes, and
        # building the new status for each job each pass is what costs.
        return scheduling.message_rewrite_in(
            changed=why.position is not None or why.message != old.message,
            old_position=written_position,
            new_position=why.position,
            since_written=since_written,
            interval=interval,
        )
    return scheduling.rewrite_in(
        old=old,
        new=scheduling.waiting_status(pending=pending, why=why, generation=current.meta.generation),
        old_position=written_position,
        new_position=why.position,
        since_written=since_written,
        interval=interval,
    )


def start(
    *,
    job: model.PipelineJob,
    step: lifecycle.Step,
    worker_found: bool,
    rendered: collections.abc.Mapping[str, object] | model.SpecError | None,
    now: datetime.datetime,
) -> lifecycle.Step:
    """What a step that creates a Job (`step.create_job`) becomes, decided
    before anything is written: itself when the Job could be rendered; a
    requeue when its Worker is gone; FAILED/InvalidSpec when the Job cannot
    be rendered from the spec."""
    if not step.create_job:
        return step
    if not worker_found:
        message = f"Worker {step.status.worker} was deleted before the Job started; requeued"
        return lifecycle.requeue(
            status=step.status, message=message, now=now, events=list(step.events)
        )
    if isinstance(rendered, model.SpecError):
        started = dataclasses.replace(job, status=step.status)
        return lifecycle.invalid(job=started, error=rendered, now=now, events=list(step.events))
    return step


def worker_write_in(*, patch_fields: collections.abc.Set[str], since_written: float) -> float:
    """Seconds until a Worker status patch of `patch_fields` may go out (0:
    now). Counts change with every admission; one write per
    WORKER_STATUS_INTERVAL is enough for people watching, a state change
    goes out at once."""
    if not patch_fields <= COUNT_FIELDS:
        return 0.0
    return max(WORKER_STATUS_INTERVAL - since_written, 0.0)
