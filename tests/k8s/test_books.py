"""books: one record per object, created on first use and removed whole
when the object goes, so nothing is left behind."""

from __future__ import annotations

from conveyor.core import lifecycle
from conveyor.k8s import books
from tests import builders as b
from tests.k8s import fakes

STEP = lifecycle.Step(status=b.pipelinejob().model().status, wants_admission=True)


def test_ten_thousand_objects_created_and_deleted_leave_nothing_behind() -> None:
    record = books.Books()
    for i in range(10_000):
        key = (f"ns-{i % 7}", f"j-{i}")
        record.want(key, STEP)
        book = record.job(key)
        book.message_written = 1.0
        book.position_written = i
        book.reported_stuck = True
        record.admitted(key, write_due=2.0)
        record.worker((key[0], f"w-{i}")).written = 1.0
    assert record.size() == 20_000
    for i in range(10_000):
        record.drop_job((f"ns-{i % 7}", f"j-{i}"))
        record.drop_worker((f"ns-{i % 7}", f"w-{i}"))
    assert record.size() == 0
    assert record.wants_in("ns-0") == {}


async def test_the_controller_forgets_a_thousand_deleted_objects_whole() -> None:
    """Through the watch feeds, the store included (parsing makes 10,000 slow)."""
    ctl = fakes.Harness().ctl
    for i in range(1_000):
        key = (fakes.NS, f"j-{i}")
        ctl.on_pipelinejob("ADDED", b.pipelinejob(key[1]).state("IN-QUEUE").served())
        ctl.books.want(key, STEP)
        ctl.books.job(key).reported_stuck = True
        # Workers in a namespace of their own: a Worker event looks at its namespace's jobs.
        ctl.on_worker("ADDED", b.worker(f"w-{i}", "workers").served())
        ctl.books.worker(("workers", f"w-{i}")).written = 1.0
    for i in range(1_000):
        ctl.on_pipelinejob("DELETED", b.pipelinejob(f"j-{i}").served())
        ctl.on_worker("DELETED", b.worker(f"w-{i}", "workers").served())
    assert ctl.books.size() == 0
    assert ctl.store.size() == 0


def test_an_admitted_job_no_longer_waits_and_is_due_a_write() -> None:
    record = books.Books()
    key = ("ns", "j")
    record.want(key, STEP)
    record.job(key).position_written = 3
    record.admitted(key, write_due=5.0)
    assert record.wanted(key) is None
    assert record.job(key).position_written is None
    assert record.job(key).write_due == 5.0
