"""workers.status: a Worker's state, slots in use, queue length and heartbeat."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pytest

from conveyor.core import health, model, workers
from tests import builders as b

T0 = b.T0
INTERVAL = workers.HEARTBEAT_INTERVAL


def worker_status(
    worker: model.Worker,
    *,
    running: int = 0,
    queued: int = 0,
    now: datetime.datetime = T0,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return workers.status(
        worker=worker, running=running, queued=queued, now=now, previous=previous or {}
    )


@pytest.mark.parametrize(
    ("worker", "running", "queued", "state", "reason", "message", "ready"),
    [
        pytest.param(
            b.worker().concurrency(3).model(), 2, 5, "ONLINE", "Ready",
            "2 of 3 slots busy, 5 queued", "True",
            id="online",
        ),
        pytest.param(
            b.worker().concurrency(3).model(), 0, 0, "ONLINE", "Ready",
            "0 of 3 slots busy, 0 queued", "True",
            id="online and idle",
        ),
        pytest.param(
            b.worker().concurrency(0).model(), 0, 4, "ONLINE", "Ready",
            "0 of 0 slots busy, 4 queued", "True",
            id="concurrency 0",
        ),
        pytest.param(
            b.worker().concurrency(3).paused(True).model(), 1, 4, "PAUSED", "Paused",
            "paused: 1 running job(s) finish, 4 wait", "True",
            id="paused",
        ),
        pytest.param(
            b.worker().whole_spec({"type": "build", "replicas": 2}).model(), 0, 1,
            "OFFLINE", "InvalidSpec",
            "spec.replicas", "False",
            id="a spec the operator cannot read",
        ),
    ],
)  # fmt: skip
def test_state(
    worker: model.Worker,
    running: int,
    queued: int,
    state: str,
    reason: str,
    message: str,
    ready: str,
) -> None:
    written = worker_status(worker, running=running, queued=queued)
    assert written["state"] == state
    assert written["reason"] == reason
    assert message in written["message"]
    assert (written["running"], written["queued"]) == (running, queued)
    assert written["observedGeneration"] == worker.meta.generation
    conditions = {c["type"]: c for c in written["conditions"]}
    assert conditions["Ready"]["status"] == ready
    assert conditions["Ready"]["reason"] == reason
    # kstatus: only a spec the operator cannot read is Stalled (Failed).
    assert conditions["Stalled"]["status"] == ("True" if reason == "InvalidSpec" else "False")


def test_the_states_are_the_contract_ones() -> None:
    seen = {
        worker_status(w)["state"]
        for w in (
            b.worker().model(),
            b.worker().paused(True).model(),
            b.worker().whole_spec({"type": "nope"}).model(),
        )
    }
    assert seen <= {str(s) for s in model.WorkerState}


@pytest.mark.parametrize(
    ("last", "refreshed"),
    [
        pytest.param(None, True, id="never beaten: now"),
        pytest.param("not a time", True, id="unreadable: now"),
        pytest.param(b.ts(T0), False, id="just now: kept"),
        pytest.param(b.ts(T0 - INTERVAL + datetime.timedelta(seconds=1)), False, id="fresh: kept"),
        pytest.param(b.ts(T0 - INTERVAL), True, id="exactly one interval old: refreshed"),
        pytest.param(b.ts(T0 - 10 * INTERVAL), True, id="stale: refreshed"),
    ],
)
def test_the_heartbeat_is_refreshed_only_when_older_than_the_interval(
    last: str | None, refreshed: bool
) -> None:
    previous = {"lastHeartbeat": last} if last is not None else {}
    written = worker_status(b.worker().model(), previous=previous)
    assert written["lastHeartbeat"] == (b.ts(T0) if refreshed else last)


def test_an_idle_worker_costs_one_write_per_interval() -> None:
    """Recomputed every few seconds with nothing changing, the status changes
    only when the heartbeat is due."""
    worker = b.worker().model()
    previous = worker_status(worker, running=1, queued=0, now=T0)
    changes = 0
    for second in range(1, 121):
        new = worker_status(worker, running=1, queued=0, now=b.at(second), previous=previous)
        if new != previous:
            changes += 1
        previous = new
    assert changes == 120 // int(INTERVAL.total_seconds())


def test_the_ready_transition_time_is_kept_while_ready_holds() -> None:
    first = worker_status(b.worker().model(), running=0, now=T0)
    later = worker_status(b.worker().model(), running=2, queued=3, now=b.at(60), previous=first)
    assert later["conditions"][0]["lastTransitionTime"] == b.ts(T0)
    assert later["conditions"][0]["message"] == "2 of 2 slots busy, 3 queued"


def test_the_ready_transition_time_moves_when_its_pods_cannot_start() -> None:
    offline = health.Health(state=model.WorkerState.OFFLINE, reason="ImagePullFailing")
    first = worker_status(b.worker().model(), now=T0)
    down = workers.status(
        worker=b.worker().model(), running=1, queued=0, now=b.at(60), previous=first, health=offline
    )
    ready = {c["type"]: c for c in down["conditions"]}["Ready"]
    assert (down["state"], ready["status"]) == ("OFFLINE", "False")
    assert ready["lastTransitionTime"] == b.ts(b.at(60))
    back = worker_status(b.worker().model(), now=b.at(120), previous=down)
    assert {c["type"]: c for c in back["conditions"]}["Ready"]["lastTransitionTime"] == b.ts(
        b.at(120)
    )
