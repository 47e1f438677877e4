"""How many API writes the operator makes per job: a performance budget,
counted from the operator's own request metrics and printed."""

from __future__ import annotations

import asyncio
import collections
import urllib.request

import pytest

from e2e.tests import conftest, kube
from tests import builders

pytestmark = pytest.mark.e2e

WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE"}
JOBS = 20


def _requests(url: str) -> collections.Counter[tuple[str, str]]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if not line.startswith("conveyor_api_requests_total{"):
                continue
            labels_text, value = line[len("conveyor_api_requests_total{") :].rsplit("} ", 1)
            labels = dict(part.split("=", 1) for part in labels_text.split(","))
            verb, resource = labels["verb"].strip('"'), labels["resource"].strip('"')
            counts[(verb, resource)] += int(float(value))
    return counts


async def _run_and_count(
    k: kube.Kube, operator: conftest.OperatorProcess, *, concurrency: int
) -> dict[tuple[str, str], int]:
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
    writes = {key: n for key, n in delta.items() if key[0] in WRITE_VERBS}
    per_job = {f"{verb} {resource}": n / JOBS for (verb, resource), n in sorted(writes.items())}
    print(f"\nAPI writes per single-attempt job ({JOBS} jobs, concurrency {concurrency}):")
    print(f"{per_job}; total: {sum(writes.values()) / JOBS:.2f} per job")
    assert writes.get(("POST", "jobs")) == JOBS  # exactly one Job per attempt
    assert not any(resource in ("pipelinejobs",) for (_, resource) in writes)  # never the spec
    return writes


async def test_writes_per_job_that_finds_a_free_slot(
    k: kube.Kube, operator: conftest.OperatorProcess
) -> None:
    writes = await _run_and_count(k, operator, concurrency=JOBS)
    # Status: RUNNING and SUCCESS, and Starting only when a pod takes more
    # than a second to run; a job admitted at once is never written as queued.
    assert writes.get(("PATCH", "pipelinejobs/status"), 0) <= 3 * JOBS
    # Started and Succeeded; no Queued Event for a job that did not wait.
    assert writes.get(("POST", "events"), 0) == 2 * JOBS


async def test_writes_per_job_that_waits(k: kube.Kube, operator: conftest.OperatorProcess) -> None:
    writes = await _run_and_count(k, operator, concurrency=2)
    # One more than above: IN-QUEUE with its reason and position. Positions
    # change with every admission but are not rewritten each time.
    assert writes.get(("PATCH", "pipelinejobs/status"), 0) <= 4 * JOBS
    assert writes.get(("POST", "events"), 0) <= 3 * JOBS


async def _worker_online(k: kube.Kube) -> bool:
    worker = await k.get(kube.WK, "build")
    return (worker.get("status") or {}).get("state") == "ONLINE"
