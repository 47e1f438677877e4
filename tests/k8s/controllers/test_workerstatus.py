"""workerstatus: a Worker's counts are written at most once in
writes.WORKER_STATUS_INTERVAL (5 s), a change of its state at once."""

from __future__ import annotations

from conveyor.core import writes
from tests.k8s import fakes

WORKER_WRITES = ("PATCH", "workers")


async def test_counts_alone_are_written_at_most_once_an_interval() -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=5)
    await h.start()
    h.api.requests.clear()
    h.pipelinejob("a")
    await h.settle()
    h.pipelinejob("b")
    await h.settle()
    assert h.api.writes()[WORKER_WRITES] == 0  # both within the interval of the first write
    await h.tick(1.0)
    assert h.api.writes()[WORKER_WRITES] == 0  # a second later: still held
    await h.tick(writes.WORKER_STATUS_INTERVAL)
    assert h.api.writes()[WORKER_WRITES] == 1
    assert h.api.get_status("workers", "build")["running"] == 2


async def test_a_change_of_state_is_written_at_once() -> None:
    h = fakes.Harness()
    h.worker("build")
    await h.start()
    assert h.api.get_status("workers", "build")["state"] == "ONLINE"
    h.api.requests.clear()
    h.worker("build", paused=True)
    await h.settle()
    assert h.api.writes()[WORKER_WRITES] == 1
    assert h.api.get_status("workers", "build")["state"] == "PAUSED"


async def test_a_deleted_worker_leaves_no_bookkeeping() -> None:
    h = fakes.Harness()
    h.worker("build")
    await h.start()
    assert h.ctl.books.size() == 1
    h.api.remove("workers", "build")
    await h.settle()
    assert h.ctl.books.size() == 0
