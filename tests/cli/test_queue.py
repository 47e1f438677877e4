"""queue: positions of waiting jobs per Worker, and the jobs holding slots."""

from __future__ import annotations

import pytest

from conveyor.core import model, queue
from tests.core import builders as b

WORKERS = [b.worker("build", concurrency=1), b.worker("deploy", type="deploy")]
DEPLOY_PARAMS = b.VALID_PARAMS["deploy"]


def waiting(name: str, **kw: object) -> model.PipelineJob:
    kw.setdefault("reason", "ConcurrencyLimit")
    kw.setdefault("worker", "build")
    return b.pipelinejob(name, state="IN-QUEUE", **kw)  # type: ignore[arg-type]


def running(name: str, *, worker: str = "build") -> model.PipelineJob:
    return b.pipelinejob(
        name, state="RUNNING", reason="Running", attempt=1, worker=worker, started_at=b.at(-30)
    )


def table(positions: dict[tuple[str, str], queue.Position]) -> dict[str, str]:
    return {name: f"{p.worker} {p}" for (_, name), p in positions.items()}


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        pytest.param(
            [waiting("b", created=b.at(2)), waiting("a", created=b.at(1))],
            {"a": "build 1/2", "b": "build 2/2"},
            id="FIFO",
        ),
        pytest.param(
            [waiting("low", created=b.at(1)), waiting("high", created=b.at(9), priority=5)],
            {"high": "build 1/2", "low": "build 2/2"},
            id="higher priority first",
        ),
        pytest.param(
            [
                waiting("b1"),
                waiting("d1", type="deploy", params=DEPLOY_PARAMS, worker="deploy"),
                waiting("b2", created=b.at(1)),
            ],
            {"b1": "build 1/2", "b2": "build 2/2", "d1": "deploy 1/1"},
            id="one queue per Worker",
        ),
        pytest.param(
            [waiting("a"), waiting("x", namespace="other")],
            {"a": "build 1/1"},
            id="other namespaces have their own Workers (none here)",
        ),
        pytest.param(
            [
                waiting("paused", reason="WorkerPaused"),
                waiting("offline", reason="WorkerOffline", created=b.at(1)),
                waiting("queued", reason="Queued", created=b.at(2)),
            ],
            {"paused": "build 1/3", "offline": "build 2/3", "queued": "build 3/3"},
            id="paused, offline and queued jobs keep their place",
        ),
        pytest.param(
            [
                waiting("delayed", reason="Delayed"),
                waiting("backoff", reason="RetryBackoff", attempt=1),
                waiting("starting", reason="Starting", attempt=1),
                running("run"),
                b.pipelinejob("done", state="SUCCESS", reason="Succeeded", worker="build"),
                b.pipelinejob("new"),
                waiting("q", created=b.at(5)),
            ],
            {"q": "build 1/1"},
            id="only jobs waiting for a slot have a place",
        ),
        pytest.param(
            [
                waiting(
                    "nowhere",
                    reason="NoWorker",
                    type="clone-env",
                    worker=None,
                    params=b.VALID_PARAMS["clone-env"],
                )
            ],
            {},
            id="no Worker of the type: no queue",
        ),
        pytest.param(
            [waiting("d", type="delay", params=b.DELAY_PARAMS, reason="Queued")],
            {},
            id="delay jobs need no Worker",
        ),
    ],
)
def test_positions(jobs: list[model.PipelineJob], expected: dict[str, str]) -> None:
    assert table(queue.positions(jobs=jobs, workers=WORKERS)) == expected


def test_position_reads_as_position_of_length() -> None:
    assert str(queue.Position(worker="build", position=2, of=5)) == "2/5"


def test_the_worker_is_resolved_as_the_operator_does() -> None:
    job = waiting("a", worker=None, reason="NoWorker")
    assert queue.worker_of(job=job, workers=WORKERS) == "build"
    assert queue.worker_of(job=job, workers=[]) is None
    named = waiting("n", spec_worker="fast", worker=None)
    assert queue.worker_of(job=named, workers=[*WORKERS, b.worker("fast")]) == "fast"


def test_finished_and_running_jobs_keep_the_worker_that_ran_them() -> None:
    assert queue.worker_of(job=running("r", worker="old"), workers=WORKERS) == "old"


def test_holders_are_admitted_unfinished_jobs_of_the_worker_longest_first() -> None:
    jobs = [
        b.pipelinejob(
            "late", state="RUNNING", reason="Running", attempt=1, worker="build", started_at=b.at(5)
        ),
        running("early"),
        waiting("starting", reason="Starting", attempt=1, started_at=None),
        running("elsewhere", worker="deploy"),
        waiting("waits"),
        b.pipelinejob("done", state="SUCCESS", reason="Succeeded", worker="build"),
    ]
    names = [j.meta.name for j in queue.holders(jobs=jobs, namespace=b.NAMESPACE, worker="build")]
    assert names == ["early", "late", "starting"]
