"""End to end: the pipeline commands as users run them: `conveyor run` starts
a run of a Pipeline, `get runs` lists it, `why` names the step that holds it
(in its job's own words), `graph` draws it, `rerun --from-failed` resumes it."""

from __future__ import annotations

import pytest

from e2e.tests import cluster as clusters
from e2e.tests import kube
from e2e.tests import pipelines as p
from e2e.tests.test_cli import conveyor
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]


PIPELINE = {
    "apiVersion": "conveyor.dev/v1alpha1",
    "kind": "Pipeline",
    "metadata": {"name": "ci"},
    "spec": {
        "params": [{"name": "revision"}],
        "steps": [
            p.step("build", message='{"digest": "sha256:aa"}'),
            p.step("test", depends_on=["build"], run_time="6s"),
        ],
    },
}


async def test_run_get_graph_why_and_resume(
    k: kube.Kube, cluster: clusters.Cluster, namespace: str
) -> None:
    ns = ("-n", namespace)
    await k.create(PIPELINE)
    started = await conveyor(cluster, "run", "ci", "-p", "revision=abc", "--name", "ci-1", *ns)
    assert started.code == 0, started.err
    assert started.out.strip() == "pipelinerun.conveyor.dev/ci-1 created"

    # No Worker yet: the build step waits, and `why` says so in the job's words.
    waiting = await p.wait_run(k, "ci-1", "IN-QUEUE", "RUNNING")
    await k.wait_state("ci-1-build", "IN-QUEUE", reason="NoWorker")
    why = await conveyor(cluster, "why", "ci-1", *ns)
    assert why.code == 0, why.err
    assert "held by step build (IN-QUEUE)" in why.out
    assert "pipelinejob ci-1-build" in why.out
    assert "no Worker of type build" in why.out
    assert waiting["spec"]["params"] == {"revision": "abc"}

    await k.create(builders.worker("build").concurrency(2).obj())
    # The test step is revoked by hand mid-run: the run fails on it.
    await k.wait_state("ci-1-test", "RUNNING")
    await k.patch(kube.PJ, "ci-1-test", {"spec": {"revoke": True}})
    await p.wait_run(k, "ci-1", "FAILED")
    listed = await conveyor(cluster, "get", "runs", *ns)
    assert listed.code == 0, listed.err
    row = listed.table()["ci-1"]
    assert (row["STATE"], row["STEPS"], row["REASON"], row["PIPELINE"]) == (
        "FAILED",
        "2/2",
        "StepFailed",
        "ci@1",
    )
    drawn = await conveyor(cluster, "graph", "ci-1", *ns)
    assert drawn.code == 0, drawn.err
    assert drawn.out.splitlines()[2:] == [
        "● build  SUCCESS",
        "    └▶ ⊘ test   REVOKED  after build  (step test was revoked)",
    ]

    # The resumed run reruns only test, reusing build's result.
    resumed = await conveyor(cluster, "rerun", "ci-1", "--from-failed", "--name", "ci-2", *ns)
    assert resumed.code == 0, resumed.err
    assert "resuming from ci-1" in resumed.out
    done = await p.wait_run(k, "ci-2", "SUCCESS")
    assert sorted(await p.children(k, "ci-2")) == ["ci-2-test"]
    assert done["status"]["pipelineGeneration"] == 1
    assert p.steps_of(done)["build"]["reusedFrom"] == "ci-1"
