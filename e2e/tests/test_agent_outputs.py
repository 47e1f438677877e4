"""The agent's outputs reach status.outputs as they are: the agent runs as a
local process the way the Job's pod would (its params from the rendered
Job's env, its outputs to the file used as the termination message), and the
operator, on the real API server with kwok playing the pod with that very
termination message, puts the same object in the PipelineJob's status."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from tests.agent import fakes

from conveyor.core import model, params, render
from e2e.tests import agent_pod, kube
from e2e.tests import cluster as clusters
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]


def rendered(job_type: str, namespace: str, raw: dict[str, Any]) -> dict[str, Any]:
    parsed = params.validate(job_type=model.JobType(job_type), params=raw)
    assert not isinstance(parsed, model.SpecError), parsed
    worker_type = model.WORKER_TYPE_OF[model.JobType(job_type)]
    assert worker_type is not None
    job = model.parse_pipelinejob(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineJob",
            "metadata": {"name": "agent", "namespace": namespace, "uid": "u"},
            "spec": {"type": job_type, "params": raw},
        }
    )
    worker = model.parse_worker(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Worker",
            "metadata": {"name": worker_type.value, "namespace": namespace},
            "spec": {"type": worker_type.value},
        }
    )
    dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=True)
    return render.render_job(job=job, worker=worker, attempt=1, params=dumped)


async def outputs_through_the_operator(
    k: kube.Kube, *, job_type: str, worker_type: str, raw: dict[str, Any], message: str
) -> Any:
    await k.create(builders.worker(worker_type).type(worker_type).concurrency(1).obj())
    await k.create(
        builders.pipelinejob("agent").type(job_type).params(raw).sim(message=message).obj()
    )
    done = await k.wait_state("agent", "SUCCESS")
    return done["status"]["outputs"]


async def test_clone_env_outputs(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    cluster.kubectl("create", "configmap", "app", "-n", namespace, "--from-literal=a=1")
    raw = {"source": namespace, "target": f"{namespace}-qa", "dryRun": True}
    run = agent_pod.run_main_container(
        rendered("clone-env", namespace, raw), cluster=cluster, tmp_path=tmp_path
    )
    assert run.code == 0, run.stderr
    message = (tmp_path / "termination-log").read_text()

    outputs = await outputs_through_the_operator(
        k, job_type="clone-env", worker_type="clone-env", raw=raw, message=message
    )

    assert outputs == json.loads(message) == run.outputs
    assert outputs["objects"] == ["ConfigMap/app"]


async def test_canary_outputs(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    prometheus = fakes.FakeApi()
    values = {"api-baseline": [0.0] * 12, "api-canary": [0.5] * 12}

    def answer(request: fakes.Request) -> tuple[int, Any]:
        variant = "api-canary" if "api-canary" in request.query["query"] else "api-baseline"
        points = [[1_700_000_000 + i, str(v)] for i, v in enumerate(values[variant])]
        matrix = [{"metric": {}, "values": points}]
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": matrix}}

    prometheus.route("GET", "/api/v1/query_range", answer)
    raw = {
        "baseline": "api-baseline",
        "canary": "api-canary",
        "address": prometheus.url,
        "interval": "2s",
        "duration": "2s",
        "passScore": 50,
        "metrics": [
            {"name": "errors", "query": 'sum(rate(e{app="$variant"}[1m]))', "threshold": 50},
            {"name": "rps", "query": 'sum(rate(r{app="$variant"}[1m]))', "direction": "decrease"},
        ],
    }
    try:
        run = agent_pod.run_main_container(
            rendered("canary-analysis", namespace, raw), cluster=cluster, tmp_path=tmp_path
        )
    finally:
        prometheus.close()
    # errors: a zero baseline against a higher canary fails (+inf); rps may rise: 50 >= 50.
    assert run.code == 0, run.stderr
    message = (tmp_path / "termination-log").read_text()

    outputs = await outputs_through_the_operator(
        k, job_type="canary-analysis", worker_type="canary", raw=raw, message=message
    )

    assert outputs == json.loads(message) == run.outputs
    assert outputs["result"] == "pass"
    assert outputs["failed"] == ["errors"]
    assert outputs["metrics"][0]["deviation"] == "+inf"
