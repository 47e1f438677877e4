"""The control loop on a fake API server and a fake clock: one job's whole
life, an admission pass, and the API's refusals (Conflict, AlreadyExists,
NotFound), each with the writes it costs. The e2e suite checks the same on
a real API server; these run in milliseconds."""

from __future__ import annotations

from conveyor.core import writes
from conveyor.k8s import api
from tests import builders as b
from tests.k8s import fakes

JOBS_CREATED = ("POST", "jobs")
STATUS_WRITES = ("PATCH", "pipelinejobs")


async def started(*names: str, concurrency: int = 2) -> fakes.Harness:
    h = fakes.Harness()
    h.worker("build", concurrency=concurrency)
    for name in names:
        h.pipelinejob(name)
    await h.start()
    return h


async def test_a_job_that_finds_a_free_slot_costs_one_job_and_two_status_writes() -> None:
    h = await started("j")
    assert h.api.writes()[JOBS_CREATED] == 1
    assert h.api.writes()[STATUS_WRITES] == 0  # Starting waits for the pod (STATUS_BATCH)

    h.pod(b.pod_running("j-1"))
    await h.settle()
    assert h.status_of()["state"] == "RUNNING"

    h.pod(b.pod_succeeded("j-1"))
    h.job_status("j-1", conditions=b.complete())
    await h.settle()
    assert h.status_of()["state"] == "SUCCESS"
    assert h.api.writes("pipelinejobs") == {STATUS_WRITES: 2}  # RUNNING, SUCCESS; never the spec
    assert h.api.writes("jobs") == {JOBS_CREATED: 1}
    assert events_of(h, "j") == [("Normal", "Succeeded")]  # one Event for its whole life


async def test_a_job_that_waits_costs_one_write_more_and_still_one_event() -> None:
    h = await started("a", "b", concurrency=1)
    assert h.status_of("b")["reason"] == "ConcurrencyLimit"
    for name in ("a", "b"):
        h.pod(b.pod_running(f"{name}-1"), pipelinejob=name)
        await h.settle()
        h.pod(b.pod_succeeded(f"{name}-1"), pipelinejob=name)
        h.job_status(f"{name}-1", conditions=b.complete())
        await h.settle()
        assert h.status_of(name)["state"] == "SUCCESS"
    # a: RUNNING, SUCCESS; b: IN-QUEUE, RUNNING, SUCCESS (its pod ran at once).
    assert h.api.writes("pipelinejobs") == {STATUS_WRITES: 5}
    assert h.api.writes("jobs") == {JOBS_CREATED: 2}
    assert events_of(h, "a") == events_of(h, "b") == [("Normal", "Succeeded")]


def events_of(h: fakes.Harness, name: str) -> list[tuple[str, str]]:
    posted = h.api.objects.get("events", {}).values()
    return [(e["type"], e["reason"]) for e in posted if e["involvedObject"]["name"] == name]


async def test_a_pod_slow_to_start_costs_a_starting_write_after_the_batch_delay() -> None:
    h = await started("j")
    await h.tick(writes.STATUS_BATCH - 0.5)
    assert h.api.writes()[STATUS_WRITES] == 0
    await h.tick(1.0)
    assert h.status_of()["reason"] == "Starting"
    assert h.api.writes()[STATUS_WRITES] == 1


async def test_an_admission_pass_fills_the_slots_and_queues_the_rest_with_positions() -> None:
    h = await started("a", "b", "c", "d", concurrency=2)
    assert sorted(n for _, n in h.api.objects["jobs"]) == ["a-1", "b-1"]
    assert h.status_of("c")["reason"] == "ConcurrencyLimit"
    assert "1" in h.status_of("c")["message"]
    assert "2" in h.status_of("d")["message"]
    # Two Jobs, two queued statuses, nothing written twice.
    assert h.api.writes()[JOBS_CREATED] == 2
    assert h.api.writes()[STATUS_WRITES] == 2


async def test_a_freed_slot_goes_to_the_first_in_the_queue() -> None:
    h = await started("a", "b", concurrency=1)
    h.pod(b.pod_succeeded("a-1"))
    h.job_status("a-1", conditions=b.complete())
    await h.settle()
    assert h.status_of("a")["state"] == "SUCCESS"
    assert ("team-a", "b-1") in h.api.objects["jobs"]


async def test_a_write_conflict_reads_the_object_again_and_decides_anew() -> None:
    h = await started("j")
    h.pod(b.pod_running("j-1"))
    h.api.fail("PATCH", "pipelinejobs", api.ApiError(status=409, reason="Conflict", message=""))
    await h.settle()
    assert h.status_of()["state"] == "RUNNING"
    gets = [r for r in h.api.requests if r == ("GET", "pipelinejobs", "j")]
    assert len(gets) == 1
    assert h.api.writes()[STATUS_WRITES] == 2  # the refused one, then the one that held


async def test_a_job_whose_creation_answer_was_lost_is_adopted_on_alreadyexists() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    timeout = api.ApiError(status=0, reason="ConnectionError", message="timed out")
    h.api.fail("POST", "jobs", timeout, after=True)
    h.api.events.clear()
    await h.ctl.prime()
    await h.settle(watch=False)  # its watch event not seen either
    assert not h.ctl.store.pipelinejobs[("team-a", "j")].status.holds_slot  # rolled back
    await h.tick(5.0, watch=False)  # the retry
    assert h.api.writes("jobs") == {JOBS_CREATED: 2}  # the second: AlreadyExists
    assert ("GET", "jobs", "j-1") in h.api.requests  # adopted, not made twice
    assert list(h.api.objects["jobs"]) == [("team-a", "j-1")]
    await h.tick(writes.STATUS_BATCH + 1)
    assert h.status_of()["job"] == "j-1"
    assert h.status_of()["reason"] == "Starting"


async def test_a_job_found_at_start_for_an_unrecorded_admission_is_adopted() -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=1)
    h.pipelinejob("j", state="IN-QUEUE", reason="ConcurrencyLimit")
    job = b.batch_job("j-1")
    job["metadata"]["ownerReferences"] = [{"uid": "uid-j"}]
    job["metadata"]["labels"]["conveyor.dev/worker"] = "build"
    h.api.put("jobs", job)
    h.pipelinejob("k")
    await h.start()
    assert h.api.writes()[JOBS_CREATED] == 0  # its slot counted: k waits
    assert h.status_of()["job"] == "j-1"
    assert h.status_of()["reason"] == "Starting"
    assert h.status_of("k")["reason"] == "ConcurrencyLimit"


async def test_a_pipelinejob_deleted_under_a_write_is_forgotten() -> None:
    h = await started("j")
    h.api.objects["pipelinejobs"].pop(("team-a", "j"))  # its DELETED event not seen yet
    h.pod(b.pod_running("j-1"))
    await h.settle()
    assert ("team-a", "j") not in h.ctl.store.pipelinejobs
    assert h.ctl.books.peek(("team-a", "j")) is None
    assert not [r for r in h.api.requests if r == ("GET", "pipelinejobs", "j")]


async def test_a_worker_deleted_mid_run_does_not_stop_its_job() -> None:
    h = await started("j")
    h.pod(b.pod_running("j-1"))
    await h.settle()
    h.api.remove("workers", "build")
    await h.settle()
    h.pod(b.pod_succeeded("j-1"))
    h.job_status("j-1", conditions=b.complete())
    await h.settle()
    assert h.status_of()["state"] == "SUCCESS"
    assert h.api.writes()[STATUS_WRITES] == 2


async def test_a_starting_job_whose_job_and_worker_are_gone_is_requeued() -> None:
    h = await started("j")
    await h.tick(writes.STATUS_BATCH + 1)  # Starting written
    h.api.remove("workers", "build")
    h.api.remove("jobs", "j-1")
    await h.settle()
    assert h.status_of()["state"] == "IN-QUEUE"
    assert "was deleted before the Job started; requeued" in h.status_of()["attempts"][0]["message"]
    assert h.api.writes()[JOBS_CREATED] == 1  # no Job for a Worker that is gone


async def test_a_deleted_pipelinejob_leaves_no_bookkeeping() -> None:
    h = await started("a", "b", "c", concurrency=1)
    for name in ("a", "b", "c"):
        h.api.remove("pipelinejobs", name)
    h.api.remove("workers", "build")
    await h.settle()
    assert h.ctl.books.size() == 0
