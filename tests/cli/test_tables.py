"""The rows of `conveyor get`, `workers` and `history`, computed from listings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conveyor.cli import get_cmd, history_cmd, workers_cmd
from tests import builders as b

NOW = b.at(120)


def heartbeat(seconds: float = 100, **status: Any) -> dict[str, Any]:
    return {"state": "ONLINE", "reason": "Ready", "lastHeartbeat": b.ts(b.at(seconds)), **status}


WORKERS = [b.worker("build").concurrency(2).status(heartbeat()).served()]

JOBS = [
    b.pipelinejob("run")
    .state("RUNNING")
    .reason("Running")
    .attempt(1)
    .assigned("build")
    .started_at(b.at(60))
    .served(),
    b.pipelinejob("start")
    .state("IN-QUEUE")
    .reason("Starting")
    .attempt(1)
    .assigned("build")
    .created(b.at(1))
    .served(),
    b.pipelinejob("q2")
    .state("IN-QUEUE")
    .reason("ConcurrencyLimit")
    .assigned("build")
    .created(b.at(30))
    .served(),
    b.pipelinejob("q1")
    .state("IN-QUEUE")
    .reason("ConcurrencyLimit")
    .assigned("build")
    .created(b.at(20))
    .served(),
    b.pipelinejob("ok")
    .state("SUCCESS")
    .reason("Succeeded")
    .attempt(1)
    .assigned("build")
    .started_at(b.at(0))
    .finished_at(b.at(90))
    .attempts([b.attempt_entry(1, result="SUCCESS", name="ok")])
    .served(),
    b.pipelinejob("bad")
    .state("FAILED")
    .reason("RetriesExhausted")
    .attempt(2)
    .assigned("build")
    .started_at(b.at(0))
    .finished_at(b.at(100))
    .attempts([b.attempt_entry(1, result="FAILED"), b.attempt_entry(2, result="FAILED")])
    .served(),
    b.pipelinejob("new").served(),
    b.pipelinejob("broken").type("bogus").served(),
]


def test_get_rows() -> None:
    rows = get_cmd.rows(jobs=JOBS, workers=WORKERS, now=NOW)
    cells = {r.name: r.cells(all_namespaces=False) for r in rows}
    assert [r.name for r in rows] == sorted(cells)
    assert cells == {
        "bad": ["bad", "FAILED", "custom", "build", "2", "RetriesExhausted", "-", "2m", "100s"],
        "broken": ["broken", "-", "bogus", "-", "-", "-", "-", "2m", "-"],
        "new": ["new", "-", "custom", "-", "-", "-", "-", "2m", "-"],
        "ok": ["ok", "SUCCESS", "custom", "build", "1", "Succeeded", "-", "2m", "90s"],
        "q1": ["q1", "IN-QUEUE", "custom", "build", "0", "ConcurrencyLimit", "1/2", "100s", "-"],
        "q2": ["q2", "IN-QUEUE", "custom", "build", "0", "ConcurrencyLimit", "2/2", "90s", "-"],
        "run": ["run", "RUNNING", "custom", "build", "1", "Running", "-", "2m", "60s"],
        "start": ["start", "IN-QUEUE", "custom", "build", "1", "Starting", "-", "119s", "-"],
    }


def test_get_rows_with_namespaces_and_as_data() -> None:
    row = next(r for r in get_cmd.rows(jobs=JOBS, workers=WORKERS, now=NOW) if r.name == "q2")
    assert row.cells(all_namespaces=True)[:2] == [b.NAMESPACE, "q2"]
    data = row.to_dict()
    assert (data["queuePosition"], data["queueLength"], data["state"]) == (2, 2, "IN-QUEUE")
    assert get_cmd.headers(all_namespaces=True)[0] == "NAMESPACE"


def queued() -> b.PipelineJob:
    return b.pipelinejob("j").state("IN-QUEUE").reason("Queued").assigned("build")


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        pytest.param(None, lambda j: j, True, id="a new job"),
        pytest.param({}, lambda j: j, False, id="nothing changed"),
        pytest.param({}, lambda j: j.created(b.at(-100)), False, id="only the age changed"),
        pytest.param({}, lambda j: j.state("RUNNING").reason("Running"), True, id="state changed"),
    ],
)
def test_watch_prints_rows_that_changed_but_not_for_the_clock(
    before: dict[str, Any] | None,
    after: Callable[[b.PipelineJob], b.PipelineJob],
    changed: bool,
) -> None:
    heads = get_cmd.headers(all_namespaces=False)
    printed = {}
    if before is not None:
        old = get_cmd.rows(jobs=[queued().served()], workers=WORKERS, now=NOW)[0]
        printed[(old.namespace, old.name)] = old.cells(all_namespaces=False)
    body = after(queued()).served()
    new = get_cmd.rows(jobs=[body], workers=WORKERS, now=NOW)[0]
    assert get_cmd.changed(before=printed, row=new, heads=heads) is changed


def test_workers_rows() -> None:
    workers = [
        *WORKERS,
        b.worker("deploy")
        .type("deploy")
        .concurrency(1)
        .status(heartbeat(state="OFFLINE", reason="ImagePullFailing", message="image pull failing"))
        .served(),
        b.worker("idle").concurrency(3).status(heartbeat(-200)).served(),
        b.worker("fresh").concurrency(1).served(),
    ]
    rows = workers_cmd.rows(workers=workers, jobs=JOBS, now=NOW)
    assert {r.name: r.cells(all_namespaces=False) for r in rows} == {
        "build": ["build", "build", "ONLINE", "2/2", "2", "100s", "20s", "-"],
        "deploy": ["deploy", "deploy", "OFFLINE", "0/1", "0", "-", "20s", "image pull failing"],
        "fresh": [
            "fresh",
            "build",
            "-",
            "0/1",
            "0",
            "-",
            "-",
            "no status: the operator has not seen this Worker",
        ],
        "idle": [
            "idle",
            "build",
            "ONLINE",
            "0/3",
            "0",
            "-",
            "5m20s",
            "heartbeat stale: the operator seems down",
        ],
    }


def test_history_rows_newest_first() -> None:
    rows = history_cmd.rows(jobs=JOBS, now=NOW)
    assert [r.cells(all_namespaces=False) for r in rows] == [
        [
            "bad",
            "custom",
            "build",
            "FAILED",
            "2m",
            "20s",
            "100s",
            "2",
            "RetriesExhausted",
        ],
        ["ok", "custom", "build", "SUCCESS", "2m", "30s", "90s", "1", "Succeeded"],
    ]


def test_history_filters_by_worker_and_limits() -> None:
    assert [r.name for r in history_cmd.rows(jobs=JOBS, now=NOW, limit=1)] == ["bad"]
    assert history_cmd.rows(jobs=JOBS, now=NOW, worker="deploy") == []
    revoked = b.pipelinejob("gone").state("REVOKED").reason("Revoked").assigned("deploy").served()
    rows = history_cmd.rows(jobs=[*JOBS, revoked], now=NOW, worker="deploy")
    assert [(r.name, r.started, r.duration, r.attempts) for r in rows] == [("gone", "-", "-", 0)]


def test_get_shows_a_running_jobs_estimate_from_its_kinds_history() -> None:
    from conveyor.cli import get_cmd
    from tests import builders as fb

    def done(name: str) -> dict[str, object]:
        job = fb.pipelinejob(name).type("custom").state("SUCCESS").assigned("build").attempt(1)
        return job.started_at(fb.at(-600 - 180)).finished_at(fb.at(-600)).served()

    live = (
        fb.pipelinejob("live")
        .type("custom")
        .state("RUNNING")
        .assigned("build")
        .attempt(1)
        .started_at(fb.at(-60))
        .served()
    )
    jobs = [done(f"done-{i}") for i in range(3)] + [live]
    rows = {r.name: r for r in get_cmd.rows(jobs=jobs, workers=[], now=fb.T0)}
    assert rows["live"].duration == "60s (about 2 min left)"
    assert rows["done-0"].duration == "3m"
