"""FailedCreate: a Job whose pod the Job controller can never create (Pod
Security refuses it, its ServiceAccount is missing) says so only in its
Events. Past a grace period without a pod, progress reads them (one filtered
list, at most every EVENTS_EVERY): the job's Starting message gives the
cause and its Worker is judged as for an image that cannot be pulled."""

from __future__ import annotations

from typing import Any

from conveyor.core import health
from conveyor.k8s.controllers import progress
from tests.k8s import fakes

FORBIDDEN = (
    'Error creating: pods "j-1-x7k2p" is forbidden: violates PodSecurity '
    '"restricted:latest": runAsUser=0 (pod must not set runAsUser=0)'
)


def failed_create(job: str, message: str = FORBIDDEN) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{job}.17a", "namespace": fakes.NS},
        "involvedObject": {"kind": "Job", "name": job, "namespace": fakes.NS},
        "reason": "FailedCreate",
        "type": "Warning",
        "message": message,
        "lastTimestamp": "2026-01-01T00:00:00Z",
    }


def event_reads(h: fakes.Harness) -> int:
    return sum(1 for verb, plural, _ in h.api.requests if (verb, plural) == ("LIST", "events"))


async def test_a_job_whose_pod_cannot_be_created_says_why_and_its_worker_is_offline() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    h.api.put("events", failed_create("j-1"))
    assert event_reads(h) == 0  # within the grace a Job may have no pod yet
    await h.tick(health.FAILED_CREATE_GRACE.total_seconds() + 1)
    status = h.status_of("j")
    assert (status["state"], status["reason"]) == ("IN-QUEUE", "Starting")
    assert "FailedCreate: the Job controller cannot create its pod: " in status["message"]
    assert "violates PodSecurity" in status["message"]
    worker = h.api.get_status("workers", "build")
    assert (worker["state"], worker["reason"]) == ("OFFLINE", "FailedCreate")
    assert "violates PodSecurity" in worker["message"]


async def test_events_are_read_rarely_and_only_for_a_job_without_a_pod() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    await h.tick(health.FAILED_CREATE_GRACE.total_seconds() + 1)
    assert event_reads(h) == 1  # nothing found: asked again later, not each round
    await h.tick(progress.EVENTS_EVERY / 2)
    assert event_reads(h) == 1
    await h.tick(progress.EVENTS_EVERY / 2 + 1)
    assert event_reads(h) == 2
    assert h.api.get_status("workers", "build")["state"] == "ONLINE"


async def test_a_job_with_a_pod_never_reads_events() -> None:
    from tests import builders as b

    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    h.pod(b.pod_running("j-1"))
    await h.tick(health.FAILED_CREATE_GRACE.total_seconds() + 1)
    assert event_reads(h) == 0
