"""admission: one pass per namespace; an admitted job's Job is rendered
(off the loop) before its slot is taken, so a spec that cannot be rendered
fails and takes no slot, and a Worker whose template cannot render goes
OFFLINE and keeps its queue; jobs with a write in flight wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from conveyor.core import lifecycle, model
from conveyor.k8s import rendering
from tests import builders as b
from tests.k8s import fakes

BAD_TEMPLATE = (
    "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
    "        - name: main\n          image: busybox:1.36\n{{ 1 / 0 }}\n"
)


def worker_spec(**fields: Any) -> dict[str, Any]:
    return {"type": "build", "concurrency": 1, "paused": False, **fields}


LONG = "x" * 62  # its Job, "<name>-1", would be longer than a label value may be
BOMB = "{% for i in range(100000) %}{% for j in range(1500) %}{% endfor %}{% endfor %}"


async def test_a_job_that_cannot_be_rendered_fails_without_taking_a_slot() -> None:
    h = fakes.Harness()
    h.worker("build")
    h.pipelinejob(LONG)
    await h.start()
    status = h.status_of(LONG)
    assert (status["state"], status["reason"]) == ("FAILED", "InvalidSpec")
    assert "metadata.name" in status["message"]
    assert h.api.writes()[("POST", "jobs")] == 0
    assert h.api.writes()[("PATCH", "pipelinejobs")] == 1
    assert not h.ctl.store.assumed((fakes.NS, LONG))


async def test_the_slot_of_a_failed_render_goes_to_the_next_job() -> None:
    h = fakes.Harness()
    h.worker("build", spec=worker_spec(concurrency=1))
    h.pipelinejob(LONG, created=b.at(-10))  # first in the queue, cannot be rendered
    h.pipelinejob("b")
    await h.start()
    assert h.status_of(LONG)["reason"] == "InvalidSpec"
    assert (fakes.NS, "b-1") in h.api.objects["jobs"]


async def test_a_worker_whose_template_cannot_render_goes_offline_and_its_queue_waits() -> None:
    h = fakes.Harness()
    h.worker("build", spec=worker_spec(jobTemplate=BAD_TEMPLATE))
    h.pipelinejob("a", created=b.at(-10))
    h.pipelinejob("b")
    await h.start()
    worker = h.api.get_status("workers", "build")
    assert (worker["state"], worker["reason"]) == ("OFFLINE", "InvalidTemplate")
    assert "Worker.spec.jobTemplate" in worker["message"]
    for name in ("a", "b"):
        status = h.status_of(name)
        assert (status["state"], status["reason"]) == ("IN-QUEUE", "WorkerOffline")
        assert "template is invalid: Worker.spec.jobTemplate" in status["message"]
    assert h.api.writes()[("POST", "jobs")] == 0
    # Fixing the Worker (a new generation) resumes its queue, in order.
    h.worker("build", spec=worker_spec(), generation=2)
    await h.settle()
    assert (fakes.NS, "a-1") in h.api.objects["jobs"]
    assert h.api.get_status("workers", "build")["state"] == "ONLINE"


async def test_a_template_over_the_render_deadline_stalls_no_other_worker() -> None:
    renderer = rendering.Renderer(deadline=0.5)
    h = fakes.Harness(renderer=renderer)
    try:
        h.worker("bomb", spec=worker_spec(jobTemplate=BOMB))
        h.worker("build")
        h.pipelinejob("a", spec_worker="bomb", created=b.at(-10))
        h.pipelinejob("b")
        await h.start()
        assert (fakes.NS, "b-1") in h.api.objects["jobs"]
        worker = h.api.get_status("workers", "bomb")
        assert (worker["state"], worker["reason"]) == ("OFFLINE", "InvalidTemplate")
        assert (
            "Worker.spec.jobTemplate: rendering the Job took longer than 0.5s"
            in (worker["message"])
        )
        assert h.status_of("a")["state"] == "IN-QUEUE"
        assert renderer.restarts == 1
    finally:
        await renderer.close()


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


GOOD_TEMPLATE = BAD_TEMPLATE.replace("{{ 1 / 0 }}\n", "")


class CountingRenderer(rendering.InProcess):
    """Renders in the test's thread and counts the trips a child would make."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def render(self, **bodies: Any) -> Any:
        self.calls += 1
        return await super().render(**bodies)


async def test_built_in_templates_render_in_the_pass_and_a_job_template_off_the_loop() -> None:
    renderer = CountingRenderer()
    h = fakes.Harness(renderer=renderer)
    h.worker("build", spec=worker_spec(concurrency=3))
    h.worker("own", spec=worker_spec(jobTemplate=GOOD_TEMPLATE))
    for name in ("a", "b", "c"):
        h.pipelinejob(name)
    h.pipelinejob("d", spec_worker="own")
    h.api.events.clear()
    await h.ctl.prime()
    h.ctl.progress.round(now=h.ctl.clock.now())
    # One pass creates every built-in Job at once; the jobTemplate's render starts.
    h.ctl.admission.schedule(fakes.NS, now=h.ctl.clock.now())
    await h.ctl.effects.settle()
    assert {name for _, name in h.api.objects["jobs"]} == {"a-1", "b-1", "c-1"}
    assert renderer.calls == 1
    # The Worker's own template was rendered by the renderer, and its Job follows.
    await h.settle()
    assert (fakes.NS, "d-1") in h.api.objects["jobs"]
    assert renderer.calls == 1


async def test_a_built_in_template_rendered_in_the_pass_uses_the_operators_agent_image() -> None:
    pinned = "registry.example/conveyor-agent@sha256:" + "a" * 64
    h = fakes.Harness(agent_image=pinned)
    h.worker("build")
    h.pipelinejob("j")
    await h.start()
    job = h.api.objects["jobs"][(fakes.NS, "j-1")]
    images = [c["image"] for c in job["spec"]["template"]["spec"]["containers"]]
    assert pinned in images


class GatedRenderer(rendering.InProcess):
    """Renders only when the test opens the gate, counting the renders."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.renders = 0

    async def render(
        self, *, job_body: Mapping[str, Any], worker_body: Mapping[str, Any], attempt: int
    ) -> dict[str, Any] | model.SpecError:
        self.renders += 1
        await self.gate.wait()
        return await super().render(job_body=job_body, worker_body=worker_body, attempt=attempt)


async def test_while_a_worker_renders_the_next_jobs_wait_without_an_admission_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = GatedRenderer()
    h = fakes.Harness(renderer=renderer)
    h.worker("build", spec=worker_spec(concurrency=3, jobTemplate=GOOD_TEMPLATE))
    for i, name in enumerate(("a", "b", "c")):
        h.pipelinejob(name, created=b.at(i - 10))
    admissions: list[str] = []
    admit = lifecycle.admit

    def counted(*, job: model.PipelineJob, **kw: Any) -> lifecycle.Step:
        admissions.append(job.meta.name)
        return admit(job=job, **kw)

    monkeypatch.setattr(lifecycle, "admit", counted)
    h.api.events.clear()
    await h.ctl.prime()
    for _ in range(5):  # passes while "a" renders
        h.ctl.queue.namespace(fakes.NS)
        h.ctl.round()
        await asyncio.sleep(0)
    assert renderer.renders == 1
    assert admissions == ["a"]  # b and c were not built an admission in every pass
    renderer.gate.set()
    await h.settle()
    assert {name for _, name in h.api.objects["jobs"]} == {"a-1", "b-1", "c-1"}


async def test_a_job_is_rendered_and_created_while_every_write_slot_is_busy() -> None:
    """2,000 new jobs queue 2,000 status writes at once; the Jobs of the
    admitted ones must not wait behind them (renders and creates are ungated)."""
    h = fakes.Harness(max_inflight_writes=1)
    h.worker("build")
    h.pipelinejob("a")
    release = asyncio.Event()

    async def hold() -> None:
        await release.wait()

    h.ctl.effects.spawn(("elsewhere", "x"), hold())  # the one write slot, taken
    await h.ctl.prime()
    for _ in range(20):  # rounds by hand: settle() would wait for the held write
        h.deliver()
        h.ctl.round()
        await asyncio.sleep(0.01)
    created = (fakes.NS, "a-1") in h.api.objects["jobs"]
    release.set()
    await h.settle()
    assert created
