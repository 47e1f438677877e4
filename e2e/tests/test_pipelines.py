"""End to end: PipelineRuns on a real API server with simulated pods. Each
step runs as an ordinary child PipelineJob; outputs flow to later steps; a
false `when` skips, a failure skips dependents and runs `finally`; revoke
and timeout stop the run; parallelism and maxParallel hold at every moment."""

from __future__ import annotations

import asyncio
import json

import pytest

from conveyor.k8s import api
from e2e.tests import cluster as clusters
from e2e.tests import conftest, kube
from e2e.tests import pipelines as p
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

EXAMPLES = clusters.ROOT / "manifests" / "examples"
# What the example's simulated build pods report, per item.
DIGEST_0, DIGEST_1 = (
    f"sha256:{i}f1e0c6d9f1e0c6d9f1e0c6d9f1e0c6d9f1e0c6d9f1e0c6d9f1e0c6d9f1e0c6d" for i in range(2)
)


async def test_the_example_pipeline_end_to_end_with_outputs_in_the_deploy_params(
    k: kube.Kube, cluster: clusters.Cluster
) -> None:
    cluster.kubectl("apply", "-n", k.namespace, "-f", str(EXAMPLES / "workers.yaml"))
    cluster.kubectl("apply", "-n", k.namespace, "-f", str(EXAMPLES / "pipelines.yaml"))

    done = await p.wait_run(k, "api-ci-42", "SUCCESS", timeout=100)

    status = done["status"]
    assert status["progress"] == "6/6"
    assert status["pipelineGeneration"] == 1
    build = p.steps_of(done)["build"]
    assert build["jobs"] == ["api-ci-42-build-0", "api-ci-42-build-1"]
    assert build["outputs"] == [{"digest": DIGEST_0}, {"digest": DIGEST_1}]
    deploy = await k.pj("api-ci-42-deploy")
    # The rendered values are in the child's spec: what ran is what `kubectl get` shows.
    assert deploy["spec"]["params"]["values"] == {"image": {"digest": DIGEST_0}}
    labels = deploy["metadata"]["labels"]
    assert (labels["conveyor.dev/pipelinerun"], labels["conveyor.dev/step"]) == (
        "api-ci-42",
        "deploy",
    )
    notify = await k.pj("api-ci-42-notify")
    assert "api-ci api-ci-42: SUCCESS" in json.dumps(notify["spec"]["params"]["command"])
    await k.wait_events("api-ci-42", "Running", "Succeeded")


async def test_a_false_when_skips_the_step_and_its_dependents_still_run(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(4).obj())
    await k.create(
        p.run(
            "w",
            steps=[
                p.step("a"),
                p.step("b", depends_on=["a"], when="steps.a.state == 'FAILED'"),
                p.step("c", depends_on=["b"]),
            ],
        )
    )
    done = await p.wait_run(k, "w", "SUCCESS")
    states = {n: s["state"] for n, s in p.steps_of(done).items()}
    assert states == {"a": "SUCCESS", "b": "Skipped", "c": "SUCCESS"}
    assert sorted(await p.children(k, "w")) == ["w-a", "w-c"]


async def test_a_failed_step_skips_dependents_runs_finally_and_names_the_step(
    k: kube.Kube, operator: conftest.OperatorProcess
) -> None:
    await k.create(builders.worker("build").concurrency(4).obj())
    await k.create(
        p.run(
            "f",
            steps=[
                p.step("a"),
                p.step("b", depends_on=["a"], exit_code=3),
                p.step("c", depends_on=["b"]),
            ],
            finally_=[p.step("notify")],
        )
    )
    done = await p.wait_run(k, "f", "FAILED")
    status = done["status"]
    assert status["reason"] == "StepFailed"
    assert "step b failed" in status["message"]
    assert "exit code 3" in status["message"]
    states = {n: s["state"] for n, s in p.steps_of(done).items()}
    assert states == {"a": "SUCCESS", "b": "FAILED", "c": "Skipped", "notify": "SUCCESS"}
    await k.wait_events("f", "Running", "StepFailed")
    # Metrics: runs by state, the run's duration, step transitions.
    url, ns = operator.metrics_url, k.namespace
    assert kube.scrape(url, "conveyor_pipelineruns", namespace=ns, state="FAILED") == 1
    count = "conveyor_pipelinerun_duration_seconds_count"
    assert kube.scrape(url, count, namespace=ns, result="FAILED") == 1
    steps = "conveyor_pipelinerun_step_transitions_total"
    assert kube.scrape(url, steps, namespace=ns, state="Skipped") == 1
    assert kube.scrape(url, steps, namespace=ns, state="SUCCESS") == 2


async def test_revoke_mid_run_revokes_running_children_and_starts_nothing_new(
    k: kube.Kube,
) -> None:
    await k.create(builders.worker("build").concurrency(4).obj())
    await k.create(
        p.run("rv", steps=[p.step("slow", run_time="60s"), p.step("after", depends_on=["slow"])])
    )
    await k.wait_state("rv-slow", "RUNNING")
    await k.patch(kube.PR, "rv", {"spec": {"revoke": True}})

    done = await p.wait_run(k, "rv", "REVOKED")
    assert (await k.pj("rv-slow"))["status"]["state"] == "REVOKED"
    assert sorted(await p.children(k, "rv")) == ["rv-slow"]
    assert p.steps_of(done)["after"]["state"] == "Skipped"


async def test_a_run_timeout_revokes_running_steps_and_fails_the_run(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(4).obj())
    await k.create(
        p.run(
            "t",
            timeout="4s",
            steps=[p.step("slow", run_time="60s"), p.step("never", depends_on=["slow"])],
            finally_=[p.step("cleanup")],
        )
    )
    done = await p.wait_run(k, "t", "FAILED", timeout=60)
    assert done["status"]["reason"] == "Timeout"
    assert (await k.pj("t-slow"))["status"]["state"] == "REVOKED"
    states = {n: s["state"] for n, s in p.steps_of(done).items()}
    assert states["never"] == "Skipped"
    assert states["cleanup"] == "SUCCESS"  # finally still runs


def _owner(child: str) -> tuple[str, str]:
    """`<run>-<step>[-<index>]` for the short names of these tests."""
    parts = child.split("-")
    return parts[0], parts[1]


async def test_parallelism_and_max_parallel_are_never_exceeded(
    k: kube.Kube, client: api.Client
) -> None:
    await k.create(builders.worker("build").concurrency(5).obj())
    watcher = p.RunWatcher(owner_of=_owner, client=client, namespace=k.namespace)
    watcher.start()
    try:
        await k.create(
            p.run(
                "fan",
                steps=[p.step("b", run_time="2s", forEach=list(range(6)), maxParallel=2)],
            )
        )
        await k.create(
            p.run("par", parallelism=2, steps=[p.step(s, run_time="2s") for s in "wxyz"])
        )
        await k.create(p.run("wide", steps=[p.step("a", run_time="2s", forEach=list(range(8)))]))
        for name in ("fan", "par", "wide"):
            await p.wait_run(k, name, "SUCCESS", timeout=100)
        await asyncio.sleep(1)  # the watcher sees the last events
    finally:
        await watcher.stop()
    assert watcher.max_by_group["fan/b"] <= 2, watcher.max_by_group
    assert watcher.max_by_group["par"] <= 2, watcher.max_by_group
    assert watcher.max_active["build"] <= 5, watcher.max_active  # the Worker's concurrency
    assert watcher.duplicates == []
    print(
        f"\nmax active Jobs: per run/step {watcher.max_by_group}, per Worker {watcher.max_active}"
    )


async def test_resume_runs_only_what_had_not_succeeded(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(4).obj())
    first = p.run(
        "r1",
        steps=[
            p.step("a", message='{"digest": "sha256:aa"}'),
            p.step("b", depends_on=["a"], exit_code=1),
            p.step("c", depends_on=["b"]),
        ],
    )
    await k.create(first)
    await p.wait_run(k, "r1", "FAILED")

    # The fix: b now succeeds; a's result (and outputs) is reused.
    second = p.run(
        "r2",
        resumeFrom="r1",
        steps=[
            p.step("a", message='{"digest": "sha256:aa"}'),
            p.step("b", depends_on=["a"]),
            p.step("c", depends_on=["b"]),
        ],
    )
    await k.create(second)
    done = await p.wait_run(k, "r2", "SUCCESS")
    assert sorted(await p.children(k, "r2")) == ["r2-b", "r2-c"]
    a = p.steps_of(done)["a"]
    assert (a["state"], a.get("reusedFrom"), a.get("outputs")) == (
        "SUCCESS",
        "r1",
        {"digest": "sha256:aa"},
    )


@pytest.mark.parametrize(
    ("steps", "extra", "refused"),
    [
        ([{"name": "a"}, {"name": "a"}], {}, "a"),  # duplicate names
        ([{"name": "a", "dependsOn": ["nope"]}], {}, "every dependsOn must name a step"),
        ([{"name": "a"}], {"pipelineRef": {"name": "x"}}, "pipelineRef"),
    ],
)
async def test_invalid_specs_are_refused_at_apply(
    k: kube.Kube, steps: list[dict[str, object]], extra: dict[str, object], refused: str
) -> None:
    body = p.run("bad", steps=[{**p.step(str(s["name"])), **s} for s in steps], **extra)
    with pytest.raises(api.ApiError) as caught:
        await k.create(body)
    assert caught.value.status == 422
    assert refused in str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        (
            p.run("cyc", steps=[p.step("a", depends_on=["b"]), p.step("b", depends_on=["a"])]),
            "InvalidSpec",
            "dependsOn",
        ),
        (p.run("when", steps=[p.step("a", when="params.x ==")]), "InvalidSpec", "when"),
        # forEach may render from earlier steps' outputs, so it is judged when the
        # step would start: the step fails, naming the field, and the run is InvalidSpec.
        (
            p.run("each", steps=[p.step("a", forEach="{{ 3 }}")]),
            "InvalidSpec",
            "spec.steps[a].forEach: must render to a list",
        ),
        (
            p.run("many", steps=[p.step("a", forEach=list(range(257)))]),
            "InvalidSpec",
            "spec.steps[a].forEach: renders to 257 items, more than 256",
        ),
    ],
)
async def test_invalid_specs_the_operator_judges_fail_naming_the_field(
    k: kube.Kube, body: dict[str, object], reason: str, field: str
) -> None:
    name = str(body["metadata"]["name"])  # type: ignore[index]
    await k.create(body)
    done = await p.wait_run(k, name, "FAILED", reason=reason)
    assert field in done["status"]["message"]
    assert await p.children(k, name) == {}


async def test_a_missing_required_param_fails_naming_it(k: kube.Kube) -> None:
    await k.create(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "Pipeline",
            "metadata": {"name": "needs"},
            "spec": {"params": [{"name": "revision"}], "steps": [p.step("a")]},
        }
    )
    await k.create(
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineRun",
            "metadata": {"name": "np"},
            "spec": {"pipelineRef": {"name": "needs"}},
        }
    )
    done = await p.wait_run(k, "np", "FAILED", reason="InvalidSpec")
    assert "revision" in done["status"]["message"]


async def test_a_run_of_256_items_and_20_steps_stays_small(k: kube.Kube) -> None:
    # Operator-run delay jobs: no pods, so the size is tested, not the machine.
    delay = {"type": "delay", "params": {"duration": "1s"}}
    steps = [{"name": "fan", "forEach": list(range(256)), "job": delay}]
    steps += [{"name": f"s{i:02d}", "dependsOn": ["fan"], "job": delay} for i in range(19)]
    await k.create(p.run("big", steps=steps))
    done = await p.wait_run(k, "big", "SUCCESS", timeout=110)
    size = len(json.dumps(done).encode())
    print(f"\nPipelineRun with 256 items and 20 steps: {size} bytes ({size / 1024:.1f} KiB)")
    assert size < 256 * 1024
    assert len(p.steps_of(done)["fan"]["jobs"]) == 256


async def test_a_step_whose_job_is_invalid_fails_the_run_naming_the_field(k: kube.Kube) -> None:
    await k.create(builders.worker("deploy").type("deploy").concurrency(1).obj())
    promote = {
        "type": "promote",
        "params": {
            "chart": {"name": "api", "repository": "https://charts.example"},
            "release": "api",
            "targetNamespace": "prod",
            "image": "registry.example/api",
            "digest": "{{ params.digest }}",
            "fromEnvironment": "staging",
            "toEnvironment": "prod",
        },
    }
    await k.create(
        p.run("inv", params={"digest": "sha256:short"}, steps=[{"name": "promote", "job": promote}])
    )
    done = await p.wait_run(k, "inv", "FAILED", reason="StepFailed")
    # The child's spec shows the rendered value; the run quotes the child's reason.
    assert (await k.pj("inv-promote"))["spec"]["params"]["digest"] == "sha256:short"
    assert "step promote failed" in done["status"]["message"]
    assert "digest" in done["status"]["message"]
