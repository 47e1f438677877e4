"""admission: one pass per namespace; an admitted job's Job is rendered
before its slot is taken, so a spec that cannot be rendered fails and takes
no slot; jobs with a write in flight wait for it."""

from __future__ import annotations

from typing import Any

from tests import builders as b
from tests.k8s import fakes

BAD_TEMPLATE = (
    "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
    "        - name: main\n          image: busybox:1.36\n{{ 1 / 0 }}\n"
)


def worker_spec(**fields: Any) -> dict[str, Any]:
    return {"type": "build", "concurrency": 1, "paused": False, **fields}


async def test_a_job_that_cannot_be_rendered_fails_without_taking_a_slot() -> None:
    h = fakes.Harness()
    h.worker("build", spec=worker_spec(jobTemplate=BAD_TEMPLATE))
    h.pipelinejob("j")
    await h.start()
    status = h.status_of("j")
    assert (status["state"], status["reason"]) == ("FAILED", "InvalidSpec")
    assert "Worker.spec.jobTemplate" in status["message"]
    assert h.api.writes()[("POST", "jobs")] == 0
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 1
    assert not h.ctl.store.assumed((fakes.NS, "j"))


async def test_the_slot_of_a_failed_render_goes_to_the_next_job() -> None:
    h = fakes.Harness()
    h.worker("build", spec=worker_spec(concurrency=1))
    # "a" is first in the queue but names a Worker template it cannot render.
    h.worker("bad", spec=worker_spec(jobTemplate=BAD_TEMPLATE))
    h.pipelinejob("a", spec_worker="bad", created=b.at(-10))
    h.pipelinejob("b")
    await h.start()
    assert h.status_of("a")["reason"] == "InvalidSpec"
    assert (fakes.NS, "b-1") in h.api.objects["jobs"]


async def test_a_job_with_a_write_in_flight_is_not_admitted_in_that_pass() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob("j")
    h.api.events.clear()
    await h.ctl.prime()
    h.ctl.progress.round(now=h.ctl.clock.now())  # j wants a slot
    h.ctl.effects.inflight.add((fakes.NS, "j"))
    h.ctl.admission.schedule(fakes.NS, now=h.ctl.clock.now())
    assert h.api.objects["jobs"] == {}
    assert (fakes.NS, "j") in h.ctl.queue.jobs  # looked at again when the write returns


async def test_a_pass_right_after_a_long_one_is_put_off() -> None:
    h = fakes.Harness()
    h.worker("build")
    await h.start()
    h.ctl.books.pass_due[fakes.NS] = h.time.mono + 0.5
    h.ctl.admission.paced(fakes.NS, now=h.ctl.clock.now())
    assert fakes.NS in h.ctl.books.pass_deferred
    h.time.advance(0.5)
    h.ctl.admission.paced(fakes.NS, now=h.ctl.clock.now())
    assert fakes.NS not in h.ctl.books.pass_deferred


async def test_a_long_queue_rewrites_positions_only_when_they_halve() -> None:
    h = fakes.Harness()
    h.worker("build", concurrency=1)
    for i in range(9):
        h.pipelinejob(f"j{i}", created=b.at(i))
    await h.start()
    first = h.api.writes()[("PATCH", "pipelinejobs")]
    assert first == 8  # each waiting job written once with its position
    # One job finishes: every position moves by one, none halves.
    h.pod(b.pod_succeeded("j0-1"), pipelinejob="j0")
    h.job_status("j0-1", conditions=b.complete())
    await h.settle()
    # j0's SUCCESS; j1 is admitted (Starting waits for its pod); j2 moves up
    # to 1 (halved) but a message waits out queue_message_interval; the
    # others' positions did not halve.
    assert h.api.writes()[("PATCH", "pipelinejobs")] == first + 1
