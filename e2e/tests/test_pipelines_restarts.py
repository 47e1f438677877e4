"""End to end: the operator is SIGKILLed at random moments during 10
concurrent PipelineRuns and restarted each time. Exactly one PipelineJob
ever exists per step item, exactly one Job per attempt, every run ends in
the state its plan says, and no Worker runs more Jobs than its concurrency."""

from __future__ import annotations

import asyncio
import pathlib
import random
import time
from typing import Any

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from e2e.tests import pipelines as p
from e2e.tests.test_restarts import chaos_namespace  # noqa: F401  (a fixture)
from tests import builders

pytestmark = pytest.mark.e2e

CONCURRENCY = 4


def _plan() -> dict[str, tuple[dict[str, Any], str, set[str]]]:
    """10 runs: (manifest, how it ends, the children it must have had)."""
    plan = {}
    for i in range(10):
        name = f"c{i}"
        fails = i % 3 == 2
        steps = [
            p.step("build", run_time="1s", forEach=["amd64", "arm64"], maxParallel=2),
            p.step("test", run_time="2s", depends_on=["build"], exit_code=1 if fails else None),
            p.step("deploy", run_time="1s", depends_on=["test"]),
        ]
        body = p.run(name, steps=steps, finally_=[p.step("notify")], parallelism=2)
        kids = {f"{name}-build-0", f"{name}-build-1", f"{name}-test", f"{name}-notify"}
        if not fails:
            kids.add(f"{name}-deploy")
        plan[name] = (body, "FAILED" if fails else "SUCCESS", kids)
    return plan


async def test_operator_killed_at_random_moments_during_10_runs(
    cluster: clusters.Cluster,
    chaos_namespace: str,  # noqa: F811
    client: api.Client,
    tmp_path: pathlib.Path,
) -> None:
    ns = chaos_namespace
    k = kube.Kube(client=client, namespace=ns)
    await k.create(builders.worker("build").concurrency(CONCURRENCY).obj())
    watcher = kube.JobWatcher(client=client, namespace=ns)
    watcher.start()
    plan = _plan()
    operator = conftest.OperatorProcess(
        kubeconfig=cluster.kubeconfig, namespaces=[ns], log=tmp_path / "operator.log"
    )
    rng = random.Random(14)
    kills = 0
    try:
        for body, _, _ in plan.values():
            await k.create(body)
        for _ in range(6):
            operator.start()
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            operator.kill()
            kills += 1
        operator.start()
        deadline = time.monotonic() + 100
        while not await _all_finished(k, plan):
            if time.monotonic() > deadline:
                pytest.fail(f"runs did not finish; operator log: {operator.log}")
            await asyncio.sleep(1)
        await asyncio.sleep(1)
    finally:
        operator.stop()
        await watcher.stop()

    children = await k.list(kube.PJ)
    by_run: dict[str, set[str]] = {}
    for child in children:
        run_name = child["metadata"]["labels"]["conveyor.dev/pipelinerun"]
        by_run.setdefault(run_name, set()).add(child["metadata"]["name"])
    for name, (_, state, kids) in plan.items():
        body = await k.get(kube.PR, name)
        assert body["status"]["state"] == state, (name, body["status"].get("message"))
        assert by_run[name] == kids, name
    # One PipelineJob per step item ever (deterministic names: no second one),
    # one Job per attempt ever (no uid seen twice for a name).
    assert len(children) == sum(len(kids) for _, _, kids in plan.values())
    assert watcher.duplicates == []
    assert watcher.max_active.get("build", 0) <= CONCURRENCY, watcher.max_active
    print(f"\n{kills} kills; max active Jobs: {watcher.max_active}")


async def _all_finished(k: kube.Kube, plan: dict[str, Any]) -> bool:
    items = {i["metadata"]["name"]: i for i in await k.list(kube.PR)}
    return all((items.get(n, {}).get("status") or {}).get("state") in p.FINISHED for n in plan)
