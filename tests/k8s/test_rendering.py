"""rendering: Job templates render in a child process, within a deadline and a memory cap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conveyor.core import model, render
from conveyor.k8s import rendering

JOB = {
    "apiVersion": "conveyor.dev/v1alpha1",
    "kind": "PipelineJob",
    "metadata": {"name": "api-42", "namespace": "team-a", "uid": "u-1"},
    "spec": {"type": "custom", "params": {"image": "alpine:3.20", "command": ["true"]}},
}
TEMPLATE = (
    "apiVersion: batch/v1\n"
    "kind: Job\n"
    "metadata: {name: {{ job_name | toyaml }}}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: main\n"
    "          image: busybox:1.36\n"
)
CPU_BOMB = "{% for i in range(100000) %}{% for j in range(1500) %}{% endfor %}{% endfor %}"
# Doubling with `~` passes every sandbox budget: only the memory cap stops it.
MEMORY_BOMB = (
    "{% set ns = namespace(s='x' * 99999) %}"
    "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
)


def worker(job_template: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "build"}
    if job_template is not None:
        spec["jobTemplate"] = job_template
    return {"metadata": {"name": "build", "namespace": "team-a"}, "spec": spec}


@pytest.fixture
async def renderer() -> AsyncIterator[rendering.Renderer]:
    r = rendering.Renderer(deadline=2.0)
    try:
        yield r
    finally:
        await r.close()


async def test_renders_as_the_core_does(renderer: rendering.Renderer) -> None:
    got = await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)
    expected = render.attempt_manifest(
        job=model.parse_pipelinejob(JOB), worker=model.parse_worker(worker()), attempt=1
    )
    assert got == expected
    assert isinstance(got, dict)
    assert got["metadata"]["name"] == "api-42-1"


async def test_a_spec_error_comes_back_as_one(renderer: rendering.Renderer) -> None:
    got = await renderer.render(
        job_body=JOB, worker_body=worker(TEMPLATE + "{{ nope }}"), attempt=1
    )
    assert isinstance(got, model.SpecError)
    assert got.field == "Worker.spec.jobTemplate"
    assert "'nope' is undefined" in got.message


async def test_the_cpu_bomb_ends_at_the_deadline_and_the_next_render_works(
    renderer: rendering.Renderer,
) -> None:
    await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)  # child started
    started = time.monotonic()
    got = await renderer.render(job_body=JOB, worker_body=worker(TEMPLATE + CPU_BOMB), attempt=1)
    took = time.monotonic() - started
    assert got == model.SpecError(
        field="Worker.spec.jobTemplate",
        message="rendering the Job took longer than 2s; look for loops that run too long",
    )
    assert took < renderer.deadline + 1.0
    assert renderer.restarts == 1
    again = await renderer.render(job_body=JOB, worker_body=worker(), attempt=2)
    assert isinstance(again, dict)
    assert again["metadata"]["name"] == "api-42-2"


async def test_the_event_loop_keeps_running_while_a_template_spins(
    renderer: rendering.Renderer,
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await renderer.render(job_body=JOB, worker_body=worker(TEMPLATE + CPU_BOMB), attempt=1)
    ticker.cancel()
    # About 40 ticks in 2 s; a render on the loop would allow none.
    assert ticks >= 20


async def test_the_memory_bomb_is_refused() -> None:
    # A longer deadline: the memory cap, not the clock, is what stops it here.
    renderer = rendering.Renderer(deadline=30.0)
    got = await renderer.render(job_body=JOB, worker_body=worker(TEMPLATE + MEMORY_BOMB), attempt=1)
    assert got == model.SpecError(
        field="Worker.spec.jobTemplate", message="uses more memory than a render may"
    )
    again = await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)
    assert isinstance(again, dict)
    await renderer.close()


async def test_a_killed_child_is_replaced(renderer: rendering.Renderer) -> None:
    await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)
    child = renderer._child
    assert child is not None
    child.kill()
    await child.wait()
    got = await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)
    assert isinstance(got, dict)


async def test_concurrent_renders_each_get_their_own_answer(
    renderer: rendering.Renderer,
) -> None:
    results = await asyncio.gather(
        *(renderer.render(job_body=JOB, worker_body=worker(), attempt=n) for n in range(1, 9))
    )
    names = [r["metadata"]["name"] for r in results if isinstance(r, dict)]
    assert names == [f"api-42-{n}" for n in range(1, 9)]


async def test_overhead_per_render(renderer: rendering.Renderer) -> None:
    job, wk = model.parse_pipelinejob(JOB), model.parse_worker(worker())
    await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)  # warm
    n = 50
    started = time.perf_counter()
    for _ in range(n):
        render.attempt_manifest(job=job, worker=wk, attempt=1)
    in_process = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for _ in range(n):
        await renderer.render(job_body=JOB, worker_body=worker(), attempt=1)
    in_child = (time.perf_counter() - started) / n
    print(
        f"\nper render: in process {in_process * 1000:.2f} ms, in the child "
        f"{in_child * 1000:.2f} ms (overhead {(in_child - in_process) * 1000:.2f} ms)"
    )
    assert in_child < 0.1  # far below the deadline, even on a loaded machine


async def test_a_pool_renders_beside_a_template_spinning_to_its_deadline() -> None:
    pool = rendering.Pool(size=2, deadline=1.0)
    try:
        await pool.start()
        bomb = pool.render(
            job_body=JOB,
            worker_body=worker(
                "{% for i in range(100000) %}{% for j in range(1500) %}{% endfor %}{% endfor %}"
            ),
            attempt=1,
        )
        spinning = asyncio.ensure_future(bomb)
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        fine = await pool.render(job_body=JOB, worker_body=worker(), attempt=1)
        assert isinstance(fine, dict)
        assert time.perf_counter() - started < 0.9  # not behind the bomb's deadline
        error = await spinning
        assert isinstance(error, model.SpecError)
        assert error.field == "Worker.spec.jobTemplate"
        assert pool.restarts == 1
    finally:
        await pool.close()


async def test_every_child_of_a_pool_renders_with_the_operators_agent_image() -> None:
    # --agent-image reaches the child processes, and a restarted child too.
    pinned = "registry.example/conveyor-agent@sha256:" + "0" * 64
    job = {**JOB, "spec": {"type": "clone-env", "params": {"source": "a", "target": "b"}}}
    on = {"metadata": {"name": "clone-env", "namespace": "team-a"}, "spec": {"type": "clone-env"}}
    pool = rendering.Pool(size=2, deadline=1.0, agent_image=pinned)
    try:
        await pool.start()
        both = await asyncio.gather(
            *(pool.render(job_body=job, worker_body=on, attempt=1) for _ in range(2))
        )
        for member in pool.members:
            await member._kill()
        again = await pool.render(job_body=job, worker_body=on, attempt=1)
    finally:
        await pool.close()
    for manifest in [*both, again]:
        assert isinstance(manifest, dict), manifest
        [main] = manifest["spec"]["template"]["spec"]["containers"]
        assert main["image"] == pinned


async def test_in_process_rendering_takes_the_setting_too() -> None:
    job = {**JOB, "spec": {"type": "clone-env", "params": {"source": "a", "target": "b"}}}
    on = {"metadata": {"name": "clone-env", "namespace": "team-a"}, "spec": {"type": "clone-env"}}
    got = await rendering.InProcess(agent_image="registry.example/agent:2").render(
        job_body=job, worker_body=on, attempt=1
    )
    assert isinstance(got, dict)
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/agent:2"
