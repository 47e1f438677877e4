"""End to end: PipelineJobs queue, run as Jobs, and their status follows,
through every state and reason, on a real API server with kwok-played pods."""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest

from conveyor.k8s import api
from e2e.tests import kube
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]


def _status(body: dict[str, object]) -> dict[str, object]:
    status = body.get("status")
    assert isinstance(status, dict)
    return status


async def test_a_job_runs_to_success_with_outputs(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(1).obj())
    await k.create(builders.pipelinejob("hello").sim(message='{"digest": "sha256:abc"}').obj())

    status = _status(await k.wait_state("hello", "SUCCESS"))

    assert status["reason"] == "Succeeded"
    assert (status["job"], status["attempt"], status["worker"]) == ("hello-1", 1, "build")
    assert status["outputs"] == {"digest": "sha256:abc"}
    assert [a["result"] for a in status["attempts"]] == ["SUCCESS"]  # type: ignore[attr-defined]
    assert all(status.get(f) for f in ("startedAt", "finishedAt", "queuedAt"))
    job = await k.get(api.JOBS, "hello-1")
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("PipelineJob", "hello", True)
    # One Event for its whole life: no Queued, no Started (the status has them).
    assert await k.wait_events("hello", "Succeeded") == ["Succeeded"]


async def test_running_is_visible_while_the_pod_runs(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(1).obj())
    await k.create(builders.pipelinejob("slow").sim(run_time="4s").obj())

    running = _status(await k.wait_state("slow", "RUNNING", reason="Running"))
    assert "running in pod slow-1-" in str(running["message"])

    await k.wait_state("slow", "SUCCESS")


async def test_no_worker_waits_until_the_worker_exists(k: kube.Kube) -> None:
    await k.create(builders.pipelinejob("orphan").obj())

    queued = _status(await k.wait_state("orphan", "IN-QUEUE", reason="NoWorker"))
    assert "no Worker of type build" in str(queued["message"])

    await k.create(builders.worker("build").obj())
    await k.wait_state("orphan", "SUCCESS")


async def test_a_paused_worker_holds_its_queue(k: kube.Kube) -> None:
    await k.create(builders.worker("build").paused(True).obj())
    await k.create(builders.pipelinejob("held").obj())

    await k.wait_state("held", "IN-QUEUE", reason="WorkerPaused")
    worker = await k.get(kube.WK, "build")
    assert worker.get("status", {}).get("state") == "PAUSED"

    await k.patch(kube.WK, "build", {"spec": {"paused": False}})
    await k.wait_state("held", "SUCCESS")


async def test_invalid_params_fail_naming_the_field(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("bad").params({"command": ["true"]}).obj())  # no image

    status = _status(await k.wait_state("bad", "FAILED", reason="InvalidSpec"))
    assert "spec.params.image" in str(status["message"])
    assert await k.list(api.JOBS, labelSelector="conveyor.dev/pipelinejob=bad") == []


async def test_a_failing_pod_fails_the_job_with_its_exit_code(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("crash").sim(exit_code=3).obj())

    status = _status(await k.wait_state("crash", "FAILED", reason="PodFailed"))
    assert "exit code 3" in str(status["message"])
    attempts = status["attempts"]
    assert isinstance(attempts, list)
    assert attempts[0]["exitCode"] == 3
    await k.wait_events("crash", "Failed")


async def test_retries_with_backoff_until_the_third_attempt_succeeds(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    job = (
        builders.pipelinejob("flaky")
        .retry_limit(3)
        .backoff({"delay": "1s", "factor": 2, "maxDelay": "10s"})
        .obj()
    )
    job["spec"]["podTemplate"] = {
        "metadata": {"annotations": {"sim.conveyor.dev/fail-attempts": "2"}}
    }
    await k.create(job)

    backoff = _status(await k.wait_state("flaky", "IN-QUEUE", reason="RetryBackoff"))
    assert backoff["nextAttemptAt"]
    status = _status(await k.wait_state("flaky", "SUCCESS", timeout=90))

    assert status["attempt"] == 3
    attempts = status["attempts"]
    assert isinstance(attempts, list)
    assert [(a["job"], a["result"]) for a in attempts] == [
        ("flaky-1", "FAILED"),
        ("flaky-2", "FAILED"),
        ("flaky-3", "SUCCESS"),
    ]
    assert "nextAttemptAt" not in status
    await k.wait_events("flaky", "Retrying")


async def test_retries_exhausted(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(
        builders.pipelinejob("doomed")
        .retry_limit(1)
        .backoff({"delay": "1s"})
        .sim(exit_code=1)
        .obj()
    )

    status = _status(await k.wait_state("doomed", "FAILED", timeout=90))
    assert status["reason"] == "RetriesExhausted"
    assert "all 2 attempts failed" in str(status["message"])


async def test_timeout_ends_the_attempt(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    await k.create(builders.pipelinejob("forever").timeout("2s").sim(run_time="5m").obj())

    status = _status(await k.wait_state("forever", "FAILED", timeout=90))
    assert status["reason"] == "DeadlineExceeded"
    assert "timeout 2s" in str(status["message"])
    job = await k.get(api.JOBS, "forever-1")
    assert job["spec"]["activeDeadlineSeconds"] == 2


async def test_start_at_delays_the_job(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    start_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
    await k.create(
        builders.pipelinejob("later")
        .spec({"startAt": start_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
        .obj()
    )

    delayed = _status(await k.wait_state("later", "IN-QUEUE", reason="Delayed"))
    assert "waiting until" in str(delayed["message"])
    done = _status(await k.wait_state("later", "SUCCESS", timeout=60))
    started = datetime.datetime.fromisoformat(str(done["startedAt"]).replace("Z", "+00:00"))
    assert started >= start_at.replace(microsecond=0)


async def test_a_delay_job_needs_no_pod(k: kube.Kube) -> None:
    await k.create(builders.pipelinejob("pause").type("delay").params({"duration": "2s"}).obj())

    running = _status(await k.wait_state("pause", "RUNNING", reason="Delayed"))
    assert "waiting until" in str(running["message"])
    done = _status(await k.wait_state("pause", "SUCCESS"))
    assert await k.list(api.JOBS, labelSelector="conveyor.dev/pipelinejob=pause") == []
    (attempt,) = done["attempts"]  # type: ignore[misc]
    assert (attempt["attempt"], attempt["result"], "job" in attempt) == (1, "SUCCESS", False)


async def test_revoke_while_queued_and_while_running(k: kube.Kube) -> None:
    await k.queue_behind_full_worker(holder="busy", waiting="waiting")

    await k.patch(kube.PJ, "waiting", {"spec": {"revoke": True}})
    queued = _status(await k.wait_state("waiting", "REVOKED"))
    assert "before it started" in str(queued["message"])

    await k.patch(kube.PJ, "busy", {"spec": {"revoke": True}})
    await k.wait_state("busy", "REVOKED")

    await k.wait_gone(api.JOBS, "busy-1")


async def test_starting_shows_why_the_pod_does_not_run(k: kube.Kube) -> None:
    await k.create(
        builders.worker("build")
        .template(
            {"spec": {"containers": [{"name": "main", "image": "unpullable.invalid/nope:1"}]}}
        )
        .obj()
    )
    await k.create(builders.pipelinejob("stuck").obj())

    async def pull_error() -> bool:
        st = (await k.pj("stuck")).get("status") or {}
        return st.get("reason") == "Starting" and "ImagePullBackOff" in st.get("message", "")

    await k.wait_for("stuck Starting with ImagePullBackOff", pull_error)
    status = _status(await k.pj("stuck"))
    assert status["state"] == "IN-QUEUE"


async def test_priority_then_fifo(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(1).obj())
    await k.create(builders.pipelinejob("blocker").sim(run_time="3s").obj())
    await k.wait_state("blocker", "RUNNING")
    for name, priority in [("low-1", 0), ("low-2", 0), ("high", 10), ("low-3", 0)]:
        await k.create(builders.pipelinejob(name).priority(priority).obj())
        await asyncio.sleep(1.1)  # creationTimestamp has one-second resolution

    for name in ["high", "low-1", "low-2", "low-3"]:
        await k.wait_state(name, "SUCCESS", timeout=90)
    started = {
        name: _status(await k.pj(name))["startedAt"] for name in ["high", "low-1", "low-2", "low-3"]
    }
    order = sorted(
        started, key=lambda n: (started[n], ["high", "low-1", "low-2", "low-3"].index(n))
    )
    assert order == ["high", "low-1", "low-2", "low-3"], started


async def test_queue_message_names_the_holders_and_the_position(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(2).obj())
    for name in ("hold-a", "hold-b"):
        await k.create(builders.pipelinejob(name).sim(run_time="30s").obj())
    await k.wait_state("hold-a", "RUNNING")
    await k.wait_state("hold-b", "RUNNING")
    await k.create(builders.pipelinejob("next").obj())

    status = _status(await k.wait_state("next", "IN-QUEUE", reason="ConcurrencyLimit"))
    assert status["message"] == "2 of 2 slots busy (hold-a, hold-b); position 1 of 1"
    assert await k.events_for("next") == []  # why it waits is the status's to say

    async def counts() -> bool:
        st = (await k.get(kube.WK, "build")).get("status") or {}
        return (st.get("running"), st.get("queued")) == (2, 1)

    await k.wait_for("Worker build: running 2, queued 1", counts)


async def test_raising_concurrency_admits_at_once(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(1).obj())
    for name in ("one", "two", "three"):
        await k.create(builders.pipelinejob(name).sim(run_time="30s").obj())
    await k.wait_state("two", "IN-QUEUE", reason="ConcurrencyLimit")

    await k.patch(kube.WK, "build", {"spec": {"concurrency": 3}})
    for name in ("one", "two", "three"):
        await k.wait_state(name, "RUNNING", timeout=30)


async def test_deleting_a_running_job_frees_its_slot(k: kube.Kube) -> None:
    await k.queue_behind_full_worker(holder="first", waiting="second")

    await k.delete(kube.PJ, "first")
    await k.wait_state("second", "SUCCESS", timeout=60)


async def test_the_operator_leaves_spec_labels_and_annotations_alone(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    created = await k.create(
        builders.pipelinejob("gitops")
        .annotations({"argocd.argoproj.io/sync-wave": "1"})
        .labels({"team": "a"})
        .obj()
    )
    done = await k.wait_state("gitops", "SUCCESS")

    for field in ("spec",):
        assert done[field] == created[field]
    assert done["metadata"].get("annotations") == created["metadata"].get("annotations")
    assert done["metadata"].get("labels") == created["metadata"].get("labels")
    assert done["metadata"].get("finalizers") is None
    assert done["metadata"]["generation"] == created["metadata"]["generation"]
    managers = {m["manager"]: m for m in done["metadata"]["managedFields"]}
    for name, entry in managers.items():
        if name != "conveyor-operator" and entry.get("subresource") != "status":
            continue
        assert entry.get("subresource") == "status", (name, json.dumps(entry))


async def test_unschedulable_pods_show_in_the_starting_message(k: kube.Kube) -> None:
    huge = {"containers": [{"name": "main", "resources": {"requests": {"cpu": "1000"}}}]}
    await k.create(builders.worker("build").template({"spec": huge}).obj())
    await k.create(builders.pipelinejob("too-big").obj())

    async def unschedulable() -> bool:
        st = (await k.pj("too-big")).get("status") or {}
        return st.get("reason") == "Starting" and "Unschedulable" in st.get("message", "")

    await k.wait_for("too-big Starting with Unschedulable", unschedulable)


async def test_ttl_after_finished_deletes_the_job(k: kube.Kube) -> None:
    await k.create(builders.worker("build").obj())
    # Long enough that a poll on a loaded machine still sees SUCCESS before the deletion.
    await k.create(builders.pipelinejob("short-lived").ttl("10s").obj())
    await k.wait_state("short-lived", "SUCCESS")

    await k.wait_gone(kube.PJ, "short-lived", timeout=60)
