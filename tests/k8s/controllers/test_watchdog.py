"""watchdog: a job stuck beside a free slot is reported once (and forgotten
with its job); every object is looked at again each resync interval."""

from __future__ import annotations

from tests import builders as b
from tests.k8s import fakes

KEY = (fakes.NS, "j")


def stuck_events(h: fakes.Harness) -> list[str]:
    return [o["message"] for o in h.api.objects["events"].values() if o["reason"] == "Stuck"]


async def stuck() -> fakes.Harness:
    h = fakes.Harness()
    h.worker("build", concurrency=2)
    await h.start()
    # A job queued long ago that the operator never looked at (its fault).
    h.pipelinejob(
        "j", state="IN-QUEUE", reason="ConcurrencyLimit", worker="build", created=b.at(minutes=-30)
    )
    h.deliver()
    h.ctl.queue.jobs.clear()
    h.ctl.queue.namespaces.clear()
    h.time.advance(600)
    return h


async def test_a_job_stuck_beside_a_free_slot_is_reported_once() -> None:
    h = await stuck()
    h.ctl.watchdog.beat()
    h.ctl.watchdog.beat()
    await h.ctl.effects.recorder.settle()
    assert len(stuck_events(h)) == 1
    assert h.ctl.books.job(KEY).reported_stuck
    assert KEY in h.ctl.queue.jobs  # and looked at again


async def test_a_deleted_job_takes_its_stuck_report_with_it() -> None:
    h = await stuck()
    h.ctl.watchdog.beat()
    h.api.remove("pipelinejobs", "j")
    h.deliver()
    assert h.ctl.books.peek(KEY) is None


async def test_every_object_is_looked_at_again_each_resync_interval() -> None:
    h = fakes.Harness(resync_interval=300.0)
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    h.ctl.watchdog.beat()
    assert KEY not in h.ctl.queue.jobs
    h.time.advance(300)
    h.ctl.watchdog.beat()
    assert KEY in h.ctl.queue.jobs
    assert fakes.NS in h.ctl.queue.namespaces
