"""queue: positions of waiting jobs per Worker, and the jobs holding slots."""

from __future__ import annotations

import pytest

from conveyor.core import model, queue
from tests import builders as b

WORKERS = [b.worker("build").concurrency(1).model(), b.worker("deploy").type("deploy").model()]
DEPLOY_PARAMS = b.VALID_PARAMS["deploy"]


def waiting(name: str, namespace: str | None = None) -> b.PipelineJob:
    return (
        b.pipelinejob(name, namespace)
        .state("IN-QUEUE")
        .reason("ConcurrencyLimit")
        .assigned("build")
    )


def running(name: str, *, worker: str = "build") -> model.PipelineJob:
    return (
        b.pipelinejob(name)
        .state("RUNNING")
        .reason("Running")
        .attempt(1)
        .assigned(worker)
        .started_at(b.at(-30))
        .model()
    )


def table(positions: dict[tuple[str, str], queue.Position]) -> dict[str, str]:
    return {name: f"{p.worker} {p}" for (_, name), p in positions.items()}


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        pytest.param(
            [waiting("b").created(b.at(2)).model(), waiting("a").created(b.at(1)).model()],
            {"a": "build 1/2", "b": "build 2/2"},
            id="FIFO",
        ),
        pytest.param(
            [
                waiting("low").created(b.at(1)).model(),
                waiting("high").created(b.at(9)).priority(5).model(),
            ],
            {"high": "build 1/2", "low": "build 2/2"},
            id="higher priority first",
        ),
        pytest.param(
            [
                waiting("b1").model(),
                waiting("d1").type("deploy").params(DEPLOY_PARAMS).assigned("deploy").model(),
                waiting("b2").created(b.at(1)).model(),
            ],
            {"b1": "build 1/2", "b2": "build 2/2", "d1": "deploy 1/1"},
            id="one queue per Worker",
        ),
        pytest.param(
            [waiting("a").model(), waiting("x", namespace="other").model()],
            {"a": "build 1/1"},
            id="other namespaces have their own Workers (none here)",
        ),
        pytest.param(
            [
                waiting("paused").reason("WorkerPaused").model(),
                waiting("offline").reason("WorkerOffline").created(b.at(1)).model(),
                waiting("queued").reason("Queued").created(b.at(2)).model(),
            ],
            {"paused": "build 1/3", "offline": "build 2/3", "queued": "build 3/3"},
            id="paused, offline and queued jobs keep their place",
        ),
        pytest.param(
            [
                waiting("delayed").reason("Delayed").model(),
                waiting("backoff").reason("RetryBackoff").attempt(1).model(),
                waiting("starting").reason("Starting").attempt(1).model(),
                running("run"),
                b.pipelinejob("done")
                .state("SUCCESS")
                .reason("Succeeded")
                .assigned("build")
                .model(),
                b.pipelinejob("new").model(),
                waiting("q").created(b.at(5)).model(),
            ],
            {"q": "build 1/1"},
            id="only jobs waiting for a slot have a place",
        ),
        pytest.param(
            [
                waiting("nowhere")
                .reason("NoWorker")
                .type("clone-env")
                .assigned(None)
                .params(b.VALID_PARAMS["clone-env"])
                .model()
            ],
            {},
            id="no Worker of the type: no queue",
        ),
        pytest.param(
            [waiting("d").type("delay").params(b.DELAY_PARAMS).reason("Queued").model()],
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
    job = waiting("a").assigned(None).reason("NoWorker").model()
    assert queue.worker_of(job=job, workers=WORKERS) == "build"
    assert queue.worker_of(job=job, workers=[]) is None
    named = waiting("n").worker("fast").assigned(None).model()
    assert queue.worker_of(job=named, workers=[*WORKERS, b.worker("fast").model()]) == "fast"


def test_finished_and_running_jobs_keep_the_worker_that_ran_them() -> None:
    assert queue.worker_of(job=running("r", worker="old"), workers=WORKERS) == "old"


def test_holders_are_admitted_unfinished_jobs_of_the_worker_longest_first() -> None:
    jobs = [
        b.pipelinejob("late")
        .state("RUNNING")
        .reason("Running")
        .attempt(1)
        .assigned("build")
        .started_at(b.at(5))
        .model(),
        running("early"),
        waiting("starting").reason("Starting").attempt(1).started_at(None).model(),
        running("elsewhere", worker="deploy"),
        waiting("waits").model(),
        b.pipelinejob("done").state("SUCCESS").reason("Succeeded").assigned("build").model(),
    ]
    names = [j.meta.name for j in queue.holders(jobs=jobs, namespace=b.NAMESPACE, worker="build")]
    assert names == ["early", "late", "starting"]
