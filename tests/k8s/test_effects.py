"""effects: the one place decisions reach the API. NotFound means gone,
Conflict means read again, AlreadyExists means adopt, a refused manifest
means InvalidSpec, and a failed write rolls its assumption back."""

from __future__ import annotations

import asyncio

import pytest

from conveyor.core import lifecycle
from conveyor.k8s import api, effects
from tests import builders as b
from tests.k8s import fakes

KEY = (fakes.NS, "j")


def error(status: int, reason: str = "") -> api.ApiError:
    return api.ApiError(status=status, reason=reason, message=reason)


async def gone() -> None:
    raise error(404, "NotFound")


async def refused() -> None:
    raise error(403, "Forbidden")


async def test_unless_gone_turns_notfound_into_none_and_tells() -> None:
    told: list[bool] = []
    assert await effects.unless_gone(gone(), on_gone=lambda: told.append(True)) is None
    assert told == [True]


async def test_unless_gone_lets_other_errors_through() -> None:
    with pytest.raises(api.ApiError):
        await effects.unless_gone(refused())


async def harness_with_queued_job() -> fakes.Harness:
    h = fakes.Harness()
    h.pipelinejob("j", state="IN-QUEUE", reason="Queued")
    await h.start()
    h.api.requests.clear()
    return h


async def test_a_status_write_carries_the_version_it_was_decided_on() -> None:
    h = await harness_with_queued_job()
    job = h.ctl.store.pipelinejobs[KEY]
    h.api.put("pipelinejobs", h.api.objects["pipelinejobs"][KEY])  # someone else wrote
    step = lifecycle.requeue(status=job.status, message="again", now=b.T0)
    await h.ctl.effects.apply(job=job, step=step)
    # Refused as stale, read again and left to the next decision.
    assert h.api.requests == [("PATCH", "pipelinejobs", "j"), ("GET", "pipelinejobs", "j")]
    assert KEY in h.ctl.queue.jobs


async def test_a_write_to_a_deleted_pipelinejob_forgets_it() -> None:
    h = await harness_with_queued_job()
    job = h.ctl.store.pipelinejobs[KEY]
    h.ctl.books.job(KEY).reported_stuck = True
    h.api.objects["pipelinejobs"].clear()
    step = lifecycle.requeue(status=job.status, message="again", now=b.T0)
    await h.ctl.effects.apply(job=job, step=step)
    assert KEY not in h.ctl.store.pipelinejobs
    assert h.ctl.books.peek(KEY) is None


async def test_a_failed_write_rolls_its_assumption_back() -> None:
    h = await harness_with_queued_job()
    job = h.ctl.store.pipelinejobs[KEY]
    step = lifecycle.admit(job=job, worker="build", now=b.T0)
    h.ctl.effects.assume(job=job, new=step.status, now=b.T0)
    assert h.ctl.store.pipelinejobs[KEY].status.holds_slot
    h.api.fail("PATCH", "pipelinejobs", error(500, "InternalError"))
    h.ctl.effects.spawn(KEY, h.ctl.effects.apply(job=job, step=step))
    await h.ctl.effects.settle()
    assert not h.ctl.store.pipelinejobs[KEY].status.holds_slot
    assert not h.ctl.store.assumed(KEY)


async def test_a_job_that_exists_is_adopted_not_made_twice() -> None:
    h = await harness_with_queued_job()
    h.api.put("jobs", b.batch_job("j-1"))
    await h.ctl.effects.create_job(KEY, manifest=b.batch_job("j-1"))
    assert h.api.requests == [("POST", "jobs", "j-1"), ("GET", "jobs", "j-1")]
    assert (fakes.NS, "j-1") in h.ctl.store.jobs


async def test_a_manifest_the_api_server_refuses_fails_the_job_as_invalid() -> None:
    h = await harness_with_queued_job()
    h.api.fail("POST", "jobs", error(422, "Invalid"))
    await h.ctl.effects.create_job(KEY, manifest=b.batch_job("j-1"))
    status = h.status_of()
    assert (status["state"], status["reason"]) == ("FAILED", "InvalidSpec")
    # The job set no podTemplate: the pod came from its Worker.
    assert status["message"].startswith("Worker.spec.template: ")


async def test_a_refused_manifest_blames_the_jobs_pod_template_when_it_set_one() -> None:
    h = fakes.Harness()
    h.pipelinejob(
        "j",
        state="IN-QUEUE",
        reason="Queued",
        spec={"podTemplate": {"metadata": {"labels": {"a": "b"}}}},
    )
    await h.start()
    h.api.fail("POST", "jobs", error(422, "Invalid"))
    await h.ctl.effects.create_job(KEY, manifest=b.batch_job("j-1"))
    assert h.status_of()["message"].startswith("spec.podTemplate: ")


async def test_deleting_what_is_gone_is_done() -> None:
    h = await harness_with_queued_job()
    await h.ctl.effects.delete(api.JOBS, namespace=fakes.NS, name="nothing")
    assert h.api.requests == [("DELETE", "jobs", "nothing")]


async def test_a_conflict_goes_to_its_handler_and_other_errors_are_retried_later() -> None:
    h = await harness_with_queued_job()
    handled: list[bool] = []

    async def conflict() -> None:
        raise error(409, "Conflict")

    async def on_conflict() -> None:
        handled.append(True)

    h.ctl.effects.spawn(KEY, conflict(), on_conflict=on_conflict)
    h.ctl.effects.spawn(("other", "x"), refused())
    await h.ctl.effects.settle()
    assert handled == [True]
    assert not h.ctl.effects.inflight
    h.time.advance(5)
    await h.settle(watch=False)
    assert ("other", "x") not in h.ctl.queue.jobs  # taken by the round that looked again


def test_a_refusal_names_its_namespace_terminating_only_when_the_api_says_so() -> None:
    body = (
        '{"kind":"Status","reason":"Forbidden","message":"unable to create new content in'
        ' namespace e2e-1 because it is being terminated","details":{"causes":'
        '[{"reason":"NamespaceTerminating","message":"namespace e2e-1 is being terminated"}]}}'
    )
    assert api._error(403, body).terminating
    assert not api._error(403, '{"reason":"Forbidden","message":"RBAC says no"}').terminating
    assert not api._error(403, '{"details":{"causes":"not a list"}}').terminating


async def test_a_write_refused_because_its_namespace_is_terminating_is_not_retried() -> None:
    h = await harness_with_queued_job()

    async def terminating() -> None:
        raise api.ApiError(
            status=403, reason="Forbidden", message="", causes=("NamespaceTerminating",)
        )

    h.ctl.effects.spawn(KEY, terminating())
    h.ctl.effects.spawn(("other", "x"), refused())
    await h.ctl.effects.settle()
    retried = [target for _, _, _, target in h.ctl.queue._timers]
    assert ("other", "x") in retried  # an RBAC refusal may be fixed: tried again
    assert KEY not in retried  # the namespace and the object go together


async def test_an_ungated_write_does_not_queue_behind_the_inflight_limit() -> None:
    h = fakes.Harness(max_inflight_writes=1)
    release = asyncio.Event()
    ran: list[str] = []

    async def hold() -> None:
        await release.wait()
        ran.append("first")

    async def note(what: str) -> None:
        ran.append(what)

    h.ctl.effects.spawn(("a", "1"), hold())
    h.ctl.effects.spawn(("a", "2"), note("gated"))
    h.ctl.effects.spawn(("a", "3"), note("ungated"), gated=False)
    for _ in range(10):
        await asyncio.sleep(0)
    assert ran == ["ungated"]  # the gated one waits for the one slot
    release.set()
    await h.ctl.effects.settle()
    assert ran == ["ungated", "first", "gated"]
