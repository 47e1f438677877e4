"""writes: when a decision is worth an API write — now, later or never."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from conveyor.core import lifecycle, model, scheduling, writes
from tests import builders as b


def waiting(**fields: Any) -> scheduling.Waiting:
    base: dict[str, Any] = {
        "reason": model.Reason.CONCURRENCY_LIMIT,
        "text": "waiting for a slot on Worker build",
        "worker": "build",
        "position": 2,
        "of": 4,
    }
    return scheduling.Waiting(**{**base, **fields})


RUNNING = b.pipelinejob().state("RUNNING").reason("Running").attempt(1).assigned("build").model()
STARTING = b.pipelinejob().state("IN-QUEUE").reason("Starting").attempt(1).assigned("build").model()
QUEUED = (
    b.pipelinejob()
    .state("IN-QUEUE")
    .reason("ConcurrencyLimit")
    .message(waiting().message)
    .assigned("build")
    .model()
)


def step(job: model.PipelineJob, **fields: Any) -> lifecycle.Step:
    return lifecycle.Step(status=job.status, **fields)


def changed(job: model.PipelineJob, **status: Any) -> lifecycle.Step:
    return lifecycle.Step(status=dataclasses.replace(job.status, **status))


EVENT = lifecycle.Event(type="Normal", reason="Requeued", message="m")


@pytest.mark.parametrize(
    ("job", "decided", "write_due", "monotonic", "expected"),
    [
        # Nothing changes, nothing to do: no write (a wake-up time is no change).
        (RUNNING, step(RUNNING), None, 0.0, False),
        (RUNNING, step(RUNNING, wake_at=b.at(60)), None, 0.0, False),
        # A change, an Event, a Job to create or delete: a write.
        (RUNNING, changed(RUNNING, message="new"), None, 0.0, True),
        (RUNNING, step(RUNNING, events=(EVENT,)), None, 0.0, True),
        (RUNNING, step(RUNNING, delete_job="j-1"), None, 0.0, True),
        (RUNNING, step(RUNNING, create_job=True), None, 0.0, True),
        # A spec edit not yet acknowledged in status: a write.
        (
            dataclasses.replace(RUNNING, meta=dataclasses.replace(RUNNING.meta, generation=2)),
            step(RUNNING),
            None,
            0.0,
            True,
        ),
        # Admitted, status assumed: still starting before the batch delay, wait...
        (STARTING, step(STARTING), 5.0, 4.0, False),
        (STARTING, changed(STARTING, message="pulling"), 5.0, 4.0, False),
        # ... then write, even unchanged (the assumed status is not written yet).
        (STARTING, step(STARTING), 5.0, 5.0, True),
        # Running before the batch delay: at once (one write instead of two).
        (STARTING, changed(STARTING, state=model.State.RUNNING, reason="Running"), 5.0, 4.0, True),
        (STARTING, step(STARTING, events=(EVENT,)), 5.0, 4.0, True),
    ],
)
def test_write_now(
    job: model.PipelineJob,
    decided: lifecycle.Step,
    write_due: float | None,
    monotonic: float,
    expected: bool,
) -> None:
    assert (
        writes.write_now(job=job, step=decided, write_due=write_due, monotonic=monotonic)
        is expected
    )


@pytest.mark.parametrize(
    ("waiting_reason", "expected"),
    [
        # On its normal way to running: no news, the batch waits for RUNNING.
        (None, False),
        ("", False),
        ("ContainerCreating", False),
        ("PodInitializing", False),
        # Trouble is news: written at once, not after the batch delay.
        ("ErrImagePull", True),
        ("ImagePullBackOff", True),
        ("CreateContainerConfigError", True),
        ("Unschedulable", True),
        ("FailedCreate", True),
    ],
)
def test_a_starting_pod_in_trouble_is_written_before_the_batch_delay(
    waiting_reason: str | None, expected: bool
) -> None:
    pulling = changed(STARTING, message=f"pod of Job j-1 is not running: {waiting_reason}")
    got = writes.write_now(
        job=STARTING, step=pulling, write_due=5.0, monotonic=1.0, waiting_reason=waiting_reason
    )
    assert got is expected


@pytest.mark.parametrize(
    ("pending", "why", "written", "since", "expected"),
    [
        # Fast path (pending is the current status): unchanged, nothing to write.
        (QUEUED.status, waiting(), None, 0.0, None),
        # A position that did not halve: not written.
        (QUEUED.status, waiting(position=3), 4, 0.0, None),
        # A position that halved: written once the interval has passed...
        (QUEUED.status, waiting(position=2), 4, 60.0, 0.0),
        # ... or after the rest of the interval.
        (QUEUED.status, waiting(position=2), 4, 45.0, 15.0),
        # A new reason: at once (the general path).
        (
            QUEUED.status,
            waiting(reason=model.Reason.WORKER_OFFLINE, text="offline"),
            2,
            0.0,
            0.0,
        ),
        # A pending status from the state machine that differs: at once.
        (dataclasses.replace(QUEUED.status, attempt=2), waiting(), 2, 0.0, 0.0),
    ],
)
def test_rewrite_in(
    pending: model.JobStatus,
    why: scheduling.Waiting,
    written: int | None,
    since: float,
    expected: float | None,
) -> None:
    got = writes.rewrite_in(
        current=QUEUED,
        pending=pending,
        why=why,
        written_position=written,
        since_written=since,
        interval=60.0,
    )
    assert got == expected


def test_the_fast_path_agrees_with_the_general_rule() -> None:
    for why in (waiting(position=1), waiting(position=None, of=None)):
        for since in (0.0, 30.0, 60.0):
            fast = writes.rewrite_in(
                current=QUEUED,
                pending=QUEUED.status,
                why=why,
                written_position=4,
                since_written=since,
                interval=60.0,
            )
            general = scheduling.rewrite_in(
                old=QUEUED.status,
                new=scheduling.waiting_status(pending=QUEUED.status, why=why, generation=1),
                old_position=4,
                new_position=why.position,
                since_written=since,
                interval=60.0,
            )
            assert fast == general, (why, since)


ADMITTED = lifecycle.admit(job=QUEUED, worker="build", now=b.T0)
ERROR = model.SpecError(field="Worker.spec.jobTemplate", message="division by zero")


@pytest.mark.parametrize(
    ("decided", "worker_found", "rendered", "state", "reason"),
    [
        (ADMITTED, True, {"kind": "Job"}, model.State.IN_QUEUE, model.Reason.STARTING),
        (ADMITTED, False, None, model.State.IN_QUEUE, model.Reason.QUEUED),
        (ADMITTED, True, ERROR, model.State.FAILED, model.Reason.INVALID_SPEC),
        # A step that creates nothing is left alone.
        (step(RUNNING), False, None, model.State.RUNNING, model.Reason.RUNNING),
    ],
)
def test_start_requeues_or_fails_before_anything_is_written(
    decided: lifecycle.Step,
    worker_found: bool,
    rendered: Any,
    state: model.State,
    reason: str,
) -> None:
    got = writes.start(
        job=QUEUED, step=decided, worker_found=worker_found, rendered=rendered, now=b.T0
    )
    assert (got.status.state, got.status.reason) == (state, reason)
    assert got.create_job is (rendered is not None and not isinstance(rendered, model.SpecError))


@pytest.mark.parametrize(
    ("fields", "since", "expected"),
    [
        ({"running", "queued"}, 0.25, 4.75),
        ({"running", "queued"}, 1.0, 4.0),  # not once a second: once in 5
        ({"running", "queued", "message", "conditions"}, 5.0, 0.0),
        ({"running"}, 7.0, 0.0),
        ({"state", "running"}, 0.0, 0.0),  # a state change: at once
    ],
)
def test_worker_write_in(fields: set[str], since: float, expected: float) -> None:
    assert writes.worker_write_in(patch_fields=fields, since_written=since) == expected
