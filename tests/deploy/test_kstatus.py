"""The status the operator writes reads right to kstatus (Flux health checks,
`wait: true`) and to `kubectl wait --for=condition=...`.

The objects are built with the operator's own status code (core.status,
core.workers), so a change there that breaks GitOps tools fails here.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conveyor.core import model, status, workers
from tests import builders as b
from tests.deploy import kstatus

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
State = model.State
Reason = model.Reason


def pipelinejob(
    state: State | None, reason: str | None = None, *, generation: int = 1
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineJob",
        "metadata": {"name": "job", "namespace": "team-a", "generation": generation},
        "spec": {"type": "build"},
    }
    if state is not None:
        body["status"] = status.to_dict(
            status=model.JobStatus(state=state, reason=reason, message=f"{state} {reason}"),
            generation=1,
            previous_conditions=[],
            now=NOW,
        )
    return body


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        (State.IN_QUEUE, Reason.QUEUED, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.CONCURRENCY_LIMIT, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.NO_WORKER, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.WORKER_PAUSED, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.DELAYED, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.RETRY_BACKOFF, kstatus.IN_PROGRESS),
        (State.IN_QUEUE, Reason.STARTING, kstatus.IN_PROGRESS),
        (State.RUNNING, Reason.RUNNING, kstatus.IN_PROGRESS),
        (State.SUCCESS, Reason.SUCCEEDED, kstatus.CURRENT),
        (State.FAILED, Reason.POD_FAILED, kstatus.FAILED),
        (State.FAILED, Reason.RETRIES_EXHAUSTED, kstatus.FAILED),
        (State.FAILED, Reason.DEADLINE_EXCEEDED, kstatus.FAILED),
        (State.FAILED, Reason.INVALID_SPEC, kstatus.FAILED),
        # Revoked on purpose: it will not progress, and its result never came.
        (State.REVOKED, Reason.REVOKED, kstatus.FAILED),
    ],
)
def test_pipelinejob_states_map_to_kstatus(state: State, reason: str, expected: str) -> None:
    result = kstatus.compute(pipelinejob(state, reason))

    assert result.status == expected
    if expected != kstatus.CURRENT:
        assert result.message == f"{state} {reason}"  # the operator's message, shown as is


def test_a_spec_change_not_yet_observed_is_in_progress() -> None:
    body = pipelinejob(State.SUCCESS, Reason.SUCCEEDED, generation=2)

    assert kstatus.compute(body).status == kstatus.IN_PROGRESS


def test_a_pipelinejob_without_status_reads_current() -> None:
    """kstatus's generic rule: no conditions, no observedGeneration -> Current.
    So right after `apply`, before the operator's first write (well under a
    second when it runs), Flux may count a new PipelineJob as ready; a
    health check that must wait for the job's end waits for Ready instead
    (docs/gitops.md)."""
    assert kstatus.compute(pipelinejob(None)).status == kstatus.CURRENT


@pytest.mark.parametrize("state", list(State))
def test_kubectl_wait_for_ready_means_success(state: State) -> None:
    """`kubectl wait --for=condition=Ready` returns exactly when the job succeeded;
    `--for=condition=Stalled` when it ended any other way."""
    conditions = {c["type"]: c for c in pipelinejob(state, "Reason")["status"]["conditions"]}

    assert conditions["Ready"]["status"] == ("True" if state is State.SUCCESS else "False")
    stalled = state in (State.FAILED, State.REVOKED)
    assert conditions["Stalled"]["status"] == ("True" if stalled else "False")
    assert conditions["Reconciling"]["status"] == ("False" if state.finished else "True")
    for condition in conditions.values():
        assert condition["observedGeneration"] == 1
        assert condition["lastTransitionTime"]
        assert condition["reason"]  # required by the API conventions (CamelCase)


def worker(built: b.Worker | None = None) -> dict[str, Any]:
    built = built or b.worker()
    body = built.served()
    body["status"] = workers.status(worker=built.model(), running=0, queued=0, now=NOW, previous={})
    return body


def test_an_online_worker_is_current() -> None:
    assert kstatus.compute(worker()).status == kstatus.CURRENT


def test_a_worker_change_not_yet_observed_is_in_progress() -> None:
    body = worker()
    body["metadata"]["generation"] = 2

    assert kstatus.compute(body).status == kstatus.IN_PROGRESS


def test_a_paused_worker_is_current() -> None:
    assert kstatus.compute(worker(b.worker().paused())).status == kstatus.CURRENT


def test_a_worker_with_an_invalid_spec_is_failed() -> None:
    body = worker(b.worker().whole_spec({"type": "no-such-type", "concurrency": 1}))

    assert body["status"]["reason"] == "InvalidSpec"
    assert kstatus.compute(body).status == kstatus.FAILED


def test_deleting_is_terminating() -> None:
    body = pipelinejob(State.RUNNING, Reason.RUNNING)
    body["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"

    assert kstatus.compute(body).status == kstatus.TERMINATING
