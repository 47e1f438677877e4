"""workqueue: the control loop's marks. A round takes each marked thing once,
skips jobs with a write in flight (their write's end wakes the loop), and
delayed marks come due on time."""

from __future__ import annotations

import asyncio
import time

from conveyor.k8s import workqueue

A = ("ns", "a")
B = ("ns", "b")


async def test_marks_are_taken_once_however_often_they_were_made() -> None:
    q = workqueue.WorkQueue()
    q.job(A)
    q.job(A)
    q.namespace("ns")
    q.cron(B)
    await q.wait(busy=set())
    assert q.take_jobs(busy=set()) == {A}
    assert q.take_namespaces() == {"ns"}
    assert q.take_crons(busy=set()) == {B}
    assert (q.take_jobs(busy=set()), q.take_namespaces(), q.take_crons(busy=set())) == (
        set(),
        set(),
        set(),
    )


async def test_a_job_with_a_write_in_flight_stays_marked_for_later() -> None:
    q = workqueue.WorkQueue()
    q.job(A)
    q.job(B)
    assert q.take_jobs(busy={A}) == {B}
    assert q.take_jobs(busy=set()) == {A}


async def test_waiting_sleeps_while_only_busy_jobs_are_marked() -> None:
    q = workqueue.WorkQueue()
    q.job(A)
    await q.wait(busy={A})  # the mark's own wakeup
    waiter = asyncio.create_task(q.wait(busy={A}))
    await asyncio.sleep(0.05)
    assert not waiter.done()  # A's write has not returned: nothing to do
    q.wake()  # as a finished write does
    await asyncio.wait_for(waiter, timeout=1)


async def test_a_delayed_mark_comes_due_and_wakes_the_loop() -> None:
    q = workqueue.WorkQueue()
    q.later(0.05, "job", A)
    q.later(0.05, "namespace", "ns")
    q.later(60, "cron", B)
    started = time.monotonic()
    await q.wait(busy=set())  # woken by the marks' own wakeup: nothing due yet
    await q.wait(busy=set())  # sleeps until the first timer
    assert time.monotonic() - started >= 0.04
    assert q.take_jobs(busy=set()) == {A}
    assert q.take_namespaces() == {"ns"}
    assert q.take_crons(busy=set()) == set()  # not due for a minute


async def test_a_cancellation_that_arrives_with_a_wake_up_stops_the_loop() -> None:
    """The racy moment: the wake-up event is set and the loop's task is
    cancelled in the same tick. The cancellation must win (asyncio.wait_for
    on Python 3.11 swallowed it and the loop went on)."""
    q = workqueue.WorkQueue()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            await q.wait(busy=set())
            q.take_jobs(busy=set())
            rounds += 1

    for timer in (False, True):  # waiting forever, and waiting for a timer
        task = asyncio.create_task(loop())
        if timer:
            q.later(60, "job", A)
        for _ in range(5):
            await asyncio.sleep(0)  # the loop is now blocked in wait()
        assert not task.done()
        q.job(B)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1)
        assert task in done, "the loop went on after its cancellation"
        assert task.cancelled()
