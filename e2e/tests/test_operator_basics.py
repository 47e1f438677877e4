"""End to end: a PipelineJob queues, runs as a Job, and its status follows."""

from __future__ import annotations

import pytest

from e2e.tests import builders, kube

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]


async def test_a_job_runs_to_success_with_outputs(k: kube.Kube) -> None:
    await k.create(builders.worker("build", concurrency=1))
    await k.create(builders.pipelinejob("hello", message='{"digest": "sha256:abc"}'))

    done = await k.wait_state("hello", "SUCCESS")

    status = done["status"]
    assert status["reason"] == "Succeeded"
    assert status["job"] == "hello-1"
    assert status["attempt"] == 1
    assert status["worker"] == "build"
    assert status["outputs"] == {"digest": "sha256:abc"}
    assert [a["result"] for a in status["attempts"]] == ["SUCCESS"]
    job = await k.get(kube.api.JOBS, "hello-1")
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("PipelineJob", "hello", True)
