"""progress: a PipelineJob moves through the state machine with as few
writes as the policy allows (core/writes.py), frees its slot the moment it
finishes, and adopts the Job of an unrecorded admission."""

from __future__ import annotations

from conveyor.core import writes
from tests import builders as b
from tests.k8s import fakes

KEY = (fakes.NS, "j")


async def running() -> fakes.Harness:
    h = fakes.Harness()
    h.worker("build", concurrency=1)
    h.pipelinejob("j")
    await h.start()
    h.pod(b.pod_running("j-1"))
    await h.settle()
    h.api.requests.clear()
    return h


async def test_looking_again_at_a_job_that_did_not_change_writes_nothing() -> None:
    h = await running()
    h.ctl.progress.advance(KEY, now=h.ctl.clock.now())
    await h.settle()
    assert h.api.writes() == {}


async def test_a_spec_edit_is_acknowledged_in_status() -> None:
    h = await running()
    body = h.api.objects["pipelinejobs"][KEY]
    body["metadata"]["generation"] = 2
    h.api.put("pipelinejobs", body)
    await h.settle()
    assert h.api.writes() == {("PATCH", "pipelinejobs"): 1}
    assert h.status_of()["observedGeneration"] == 2


async def test_a_finished_job_frees_its_slot_before_its_write_returns() -> None:
    h = await running()
    h.pod(b.pod_succeeded("j-1"))
    h.job_status("j-1", conditions=b.complete())
    h.deliver()
    h.ctl.progress.round(now=h.ctl.clock.now())
    # Assumed: the next admission pass counts the slot free already.
    assert not h.ctl.store.pipelinejobs[KEY].status.holds_slot
    assert KEY in h.ctl.effects.inflight
    await h.settle()
    assert h.status_of()["state"] == "SUCCESS"


async def test_a_starting_job_waits_for_its_pod_then_writes_once() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    assert h.ctl.books.job(KEY).write_due is not None
    h.ctl.progress.advance(KEY, now=h.ctl.clock.now())
    await h.settle()
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 0
    h.time.advance(writes.STATUS_BATCH)
    h.ctl.progress.advance(KEY, now=h.ctl.clock.now())
    await h.settle()
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 1
    assert h.ctl.books.job(KEY).write_due is None


async def test_a_starting_pod_in_trouble_is_written_at_once_and_only_once() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    h.pod(b.pod_pending("j-1", waiting_reason="ContainerCreating"))
    await h.settle()
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 0  # on its way: no news
    h.pod(b.pod_pending("j-1", waiting_reason="ErrImagePull", waiting_message="not found"))
    await h.settle()
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 1  # before the batch delay
    assert "ErrImagePull: not found" in h.status_of()["message"]
    h.ctl.progress.advance(KEY, now=h.ctl.clock.now())
    await h.settle()
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 1
