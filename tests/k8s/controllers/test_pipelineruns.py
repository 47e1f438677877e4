"""pipelineruns: a PipelineRun creates each ready step's child PipelineJob once
(owned, labelled, deterministically named), follows the children to its end,
cascades revoke to running children, and never starts a step twice, across
restarts included. A child is then an ordinary PipelineJob."""

from __future__ import annotations

import copy
from typing import Any

from conveyor.core.pipeline import naming
from conveyor.k8s import api, controller, settings
from tests.core.pipeline import builders as pb
from tests.k8s import fakes

PJ = "pipelinejobs"
PR = "pipelineruns"
DIGEST_OF_ITEM_1 = "{{ steps.build.outputs[1].digest }}"


def children_of(h: fakes.Harness, run: str = "r") -> list[str]:
    return sorted(
        n
        for (_, n), o in h.api.objects[PJ].items()
        if o["metadata"].get("labels", {}).get(naming.RUN_LABEL) == run
    )


def run_status(h: fakes.Harness, name: str = "r") -> dict[str, Any]:
    return h.api.get_status(PR, name)


def steps(h: fakes.Harness, name: str = "r") -> dict[str, str]:
    return {s["name"]: s["state"] for s in run_status(h, name).get("steps") or ()}


def finish(h: fakes.Harness, name: str, state: str = "SUCCESS", **status: Any) -> None:
    """The child's job ends, as its PipelineJob's status says."""
    body = copy.deepcopy(h.api.objects[PJ][(fakes.NS, name)])
    body["status"] = {
        **(body.get("status") or {}),
        "state": state,
        "reason": "Succeeded" if state == "SUCCESS" else "Failed",
        "finishedAt": "2026-01-01T00:00:00Z",
        **status,
    }
    h.api.put(PJ, body)


def restarted(h: fakes.Harness) -> fakes.Harness:
    """A new operator process on the same API server."""
    again = fakes.Harness.__new__(fakes.Harness)
    again.api, again.time = h.api, h.time
    again.ctl = controller.Controller(
        client=h.api,  # type: ignore[arg-type]
        settings=settings.Settings(),
        clock=h.time.clock(),
    )
    return again


async def test_steps_run_in_order_as_owned_labelled_children_to_success() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("build").step("test", depends_on=["build"]).obj())
    await h.start()
    assert children_of(h) == ["r-build"]
    child = h.api.objects[PJ][(fakes.NS, "r-build")]
    assert child["metadata"]["labels"] == {naming.RUN_LABEL: "r", naming.STEP_LABEL: "build"}
    owner = child["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("PipelineRun", "r", "uid-r")
    assert run_status(h)["pipelineSpec"]["steps"][0]["name"] == "build"
    assert steps(h) == {"build": "IN-QUEUE", "test": "Pending"}

    finish(h, "r-build", outputs={"digest": "sha256:1"})
    await h.settle()
    assert children_of(h) == ["r-build", "r-test"]
    assert steps(h)["build"] == "SUCCESS"

    finish(h, "r-test")
    await h.settle()
    status = run_status(h)
    assert (status["state"], status["reason"], status["progress"]) == (
        "SUCCESS",
        "Succeeded",
        "2/2",
    )
    posted = [e for e in h.api.objects["events"].values() if e["involvedObject"]["name"] == "r"]
    # An Event per change of the run's state.
    assert sorted(e["reason"] for e in posted) == ["Queued", "Running", "Succeeded"]


async def test_outputs_feed_later_templates_rendered_into_the_childs_spec() -> None:
    h = fakes.Harness()
    run = (
        pb.pipelinerun("r")
        .step("build", for_each=["amd64", "arm64"])
        .step(
            "deploy",
            depends_on=["build"],
            job_=pb.job(params={**pb.CUSTOM, "command": ["echo", DIGEST_OF_ITEM_1]}),
        )
    )
    h.api.put(PR, run.obj())
    await h.start()
    assert children_of(h) == ["r-build-0", "r-build-1"]
    finish(h, "r-build-1", outputs={"digest": "sha256:b"})
    finish(h, "r-build-0", outputs={"digest": "sha256:a"})
    await h.settle()
    deploy = h.api.objects[PJ][(fakes.NS, "r-deploy")]
    assert deploy["spec"]["params"]["command"] == ["echo", "sha256:b"]
    entry = next(s for s in run_status(h)["steps"] if s["name"] == "build")
    assert entry["outputs"] == [{"digest": "sha256:a"}, {"digest": "sha256:b"}]  # item order


async def test_parallelism_and_max_parallel_limit_unfinished_children() -> None:
    h = fakes.Harness()
    run = pb.pipelinerun("r").step("build", for_each=list(range(5)), max_parallel=2)
    h.api.put(PR, run.obj())
    await h.start()
    assert children_of(h) == ["r-build-0", "r-build-1"]
    finish(h, "r-build-0")
    await h.settle()
    assert children_of(h) == ["r-build-0", "r-build-1", "r-build-2"]

    h2 = fakes.Harness()
    h2.api.put(PR, pb.pipelinerun("r").step("a").step("b").step("c").set(parallelism=2).obj())
    await h2.start()
    assert children_of(h2) == ["r-a", "r-b"]


async def test_a_restart_adopts_children_and_never_starts_a_step_twice() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("build").step("test", depends_on=["build"]).obj())
    # The child is created but the run's status write is lost (the operator died).
    h.api.fail("PATCH", PR, api.ApiError(status=503, reason="ServiceUnavailable", message=""))
    await h.start()
    assert children_of(h) == ["r-build"]
    again = restarted(h)
    await again.start()
    posts = [r for r in h.api.requests if r[:2] == ("POST", PJ) and r[2] == "r-build"]
    assert children_of(h) == ["r-build"]
    assert len(posts) <= 2  # a second POST at most, answered AlreadyExists: adopted
    finish(h, "r-build")
    await again.settle()
    assert children_of(h) == ["r-build", "r-test"]


async def test_a_created_child_whose_answer_was_lost_is_adopted() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("build").obj())
    h.api.fail("POST", PJ, api.ApiError(status=504, reason="Timeout", message=""), after=True)
    await h.start()
    await h.tick(10)
    assert children_of(h) == ["r-build"]
    assert steps(h)["build"] == "IN-QUEUE"


async def test_revoke_cascades_to_running_children_and_starts_nothing_new() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("build").step("test", depends_on=["build"]).obj())
    await h.start()
    body = copy.deepcopy(h.api.objects[PR][(fakes.NS, "r")])
    body["spec"]["revoke"] = True
    h.api.put(PR, body)
    await h.settle()
    assert h.api.objects[PJ][(fakes.NS, "r-build")]["spec"]["revoke"] is True
    finish(h, "r-build", state="REVOKED")
    await h.settle()
    assert children_of(h) == ["r-build"]
    assert (run_status(h)["state"], run_status(h)["reason"]) == ("REVOKED", "Revoked")


async def test_a_pipeline_ref_is_resolved_once_from_the_store() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").ref("p").obj())
    await h.start()
    assert run_status(h)["state"] == "IN-QUEUE"  # waiting for its Pipeline
    h.api.put("pipelines", pb.pipeline("p").step("only").obj())
    await h.settle()
    assert children_of(h) == ["r-only"]
    assert run_status(h)["pipelineGeneration"] == 1


async def test_a_cron_job_schedules_pipelineruns() -> None:
    h = fakes.Harness()
    template = {"spec": {"steps": [pb.step_body("only")]}}
    h.api.put(
        "pipelinecronjobs",
        {
            "apiVersion": "conveyor.dev/v1alpha1",
            "kind": "PipelineCronJob",
            "metadata": {"name": "nightly", "namespace": fakes.NS, "uid": "u", "generation": 1},
            "spec": {"schedule": "* * * * *", "pipelineRunTemplate": template},
        },
    )
    await h.start()
    await h.tick(61)
    runs = list(h.api.objects[PR])
    assert runs
    assert all(n.startswith("nightly-") for _, n in runs)
    assert h.api.objects[PJ]  # and each run started its step
    assert "lastScheduleTime" in h.api.get_status("pipelinecronjobs", "nightly")


async def test_the_timeout_wakes_the_run_and_revokes_its_running_children() -> None:
    h = fakes.Harness()
    run = pb.pipelinerun("r").step("slow").step("never", depends_on=["slow"]).set(timeout="1m")
    h.api.put(PR, run.obj())
    await h.start()
    assert "revoke" not in h.api.objects[PJ][(fakes.NS, "r-slow")]["spec"]
    await h.tick(61)  # no event: the run's own timer
    assert h.api.objects[PJ][(fakes.NS, "r-slow")]["spec"]["revoke"] is True
    finish(h, "r-slow", state="REVOKED")
    await h.settle()
    assert (run_status(h)["state"], run_status(h)["reason"]) == ("FAILED", "Timeout")
    assert children_of(h) == ["r-slow"]


async def test_an_edited_pipeline_does_not_change_a_run_in_flight() -> None:
    h = fakes.Harness()
    h.api.put("pipelines", pb.pipeline("p").step("a").step("b", depends_on=["a"]).obj())
    h.api.put(PR, pb.pipelinerun("r").ref("p").obj())
    await h.start()
    edited = pb.pipeline("p").step("other").obj()
    edited["metadata"]["generation"] = 2
    h.api.put("pipelines", edited)
    await h.settle()
    finish(h, "r-a")
    await h.settle()
    assert children_of(h) == ["r-a", "r-b"]
    assert run_status(h)["pipelineGeneration"] == 1


async def test_a_deleted_run_and_its_children_leave_nothing_behind() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("a", for_each=[1, 2, 3]).obj())
    await h.start()
    for name in children_of(h):
        h.api.remove(PJ, name)  # the garbage collector follows the owner reference
    h.api.remove(PR, "r")
    await h.settle()
    assert h.ctl.store.size() == 0
    assert h.ctl.queue.runs == set()


async def test_a_conflict_on_the_runs_status_reads_it_again_and_decides_anew() -> None:
    h = fakes.Harness()
    h.api.put(PR, pb.pipelinerun("r").step("build").obj())
    h.api.fail("PATCH", PR, api.ApiError(status=409, reason="Conflict", message=""))
    await h.start()
    assert ("GET", PR, "r") in h.api.requests
    assert children_of(h) == ["r-build"]
    assert steps(h) == {"build": "IN-QUEUE"}
