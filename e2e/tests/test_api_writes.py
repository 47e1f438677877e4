"""How many API writes and Events the operator makes per job: a performance
budget (docs/architecture.md, "One PipelineJob's path"), counted from the
operator's own request metrics and printed.

Each test has its own namespace and an operator that serves only it: the
session's operator also serves earlier tests' namespaces, still being
deleted, and its writes there would be counted here.
"""

from __future__ import annotations

import asyncio
import collections
import pathlib
import urllib.request
from collections.abc import Iterator

import pytest

from conveyor.core import model, writes
from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE"}
JOBS = 20


@pytest.fixture
def namespace(cluster: clusters.Cluster) -> Iterator[str]:
    # Not `e2e-*`: the session's operator must not act here too.
    with conftest.fresh_namespace(cluster, prefix="writes") as name:
        yield name


@pytest.fixture
def operator(
    cluster: clusters.Cluster, crds: None, namespace: str, tmp_path: pathlib.Path
) -> Iterator[conftest.OperatorProcess]:
    own = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig, namespaces=[namespace], log=tmp_path / "operator.log"
    )
    own.start()
    try:
        own.wait_ready()
        yield own
    finally:
        own.stop()


def _requests(url: str) -> collections.Counter[tuple[str, str, str]]:
    """The operator's API requests so far, by (verb, resource, code)."""
    counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if not line.startswith("conveyor_api_requests_total{"):
                continue
            labels_text, value = line[len("conveyor_api_requests_total{") :].rsplit("} ", 1)
            labels = {
                name: text.strip('"')
                for name, text in (part.split("=", 1) for part in labels_text.split(","))
            }
            counts[(labels["verb"], labels["resource"], labels["code"])] += int(float(value))
    return counts


async def _run_and_count(
    k: kube.Kube, operator: conftest.OperatorProcess, *, concurrency: int
) -> tuple[dict[tuple[str, str], int], int]:
    """Run JOBS single-attempt jobs on a Worker of `concurrency`; the operator's
    writes, by (verb, resource), printed per job."""
    await k.create(builders.worker("build").concurrency(concurrency).obj())
    await k.wait_for("the Worker's first status", lambda: _worker_online(k))
    before = _requests(operator.metrics_url)

    for i in range(JOBS):
        await k.create(builders.pipelinejob(f"w-{i:02d}").obj())
    for i in range(JOBS):
        await k.wait_state(f"w-{i:02d}", "SUCCESS", timeout=90)
    await asyncio.sleep(2)  # Events and the Worker's status trail behind
    after = _requests(operator.metrics_url)

    delta = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    by_code = {key: n for key, n in delta.items() if key[0] in WRITE_VERBS}
    counted: collections.Counter[tuple[str, str]] = collections.Counter()
    for (verb, resource, _), n in by_code.items():
        counted[(verb, resource)] += n
    per_job = {f"{verb} {resource}": n / JOBS for (verb, resource), n in sorted(counted.items())}
    print(f"\nAPI writes per single-attempt job ({JOBS} jobs, concurrency {concurrency}):")
    print(f"{per_job}; total: {sum(counted.values()) / JOBS:.2f} per job")
    print(f"by answer: {dict(sorted(by_code.items()))}")
    assert counted.get(("POST", "jobs")) == JOBS  # exactly one Job per attempt
    assert not any(resource in ("pipelinejobs",) for (_, resource) in counted)  # never the spec
    slow = await _slow_pods(k)
    print(f"pods slower to run than the {writes.STATUS_BATCH:g} s batch: {slow}")
    return counted, slow


async def _slow_pods(k: kube.Kube) -> int:
    """Jobs whose pod ran more than writes.STATUS_BATCH after their Job was
    created (less a second: creationTimestamp has one-second resolution):
    each is allowed its Starting write. On a quiet machine: none."""
    slow = 0
    for i in range(JOBS):
        status = (await k.pj(f"w-{i:02d}")).get("status") or {}
        job = await k.get(api.JOBS, str(status.get("job")))
        created = model.parse_time(job["metadata"].get("creationTimestamp"))
        started = model.parse_time(status.get("startedAt"))
        assert created is not None
        assert started is not None
        if (started - created).total_seconds() > writes.STATUS_BATCH - 1:
            slow += 1
    return slow


async def test_writes_per_job_that_finds_a_free_slot(
    k: kube.Kube, operator: conftest.OperatorProcess
) -> None:
    counted, slow = await _run_and_count(k, operator, concurrency=JOBS)
    # 3 per job: its Job, RUNNING and SUCCESS. Never written as queued; a
    # Starting write only for a pod slower than the batch delay.
    assert counted.get(("PATCH", "pipelinejobs/status"), 0) <= 2 * JOBS + slow
    # One Event per job that succeeds at once: Succeeded (no Queued, no Started).
    assert counted.get(("POST", "events"), 0) == JOBS


async def test_writes_per_job_that_waits(k: kube.Kube, operator: conftest.OperatorProcess) -> None:
    counted, slow = await _run_and_count(k, operator, concurrency=2)
    # 4 per job: one more than above, IN-QUEUE with its reason and position.
    # Positions change with every admission; none is rewritten in a wait this
    # short (at most once a minute, scheduling.rewrite_in).
    assert counted.get(("PATCH", "pipelinejobs/status"), 0) <= 3 * JOBS + slow
    # Still one Event per job: waiting is not news, the status says why.
    assert counted.get(("POST", "events"), 0) == JOBS


async def _worker_online(k: kube.Kube) -> bool:
    worker = await k.get(kube.WK, "build")
    return (worker.get("status") or {}).get("state") == "ONLINE"
