"""Job rendering in a separate process, with a deadline and a memory cap.

A Worker's jobTemplate is code: nested loops can keep a CPU busy for
minutes, and a thread would not help (the GIL would still stall the event
loop, and so every namespace and /healthz). So templates render in one
persistent child process (`python -m conveyor.k8s.rendering`), one request at
a time over its stdin and stdout, one JSON line each way. A render that
passes its deadline gets the child killed (a new one starts at the next
render) and the job an InvalidSpec naming the Worker field; the child's
address space is capped, so a template building a huge value fails there
with MemoryError instead of the operator being OOM-killed.

The sandbox's own budgets (core/sandbox.py) stop most bombs at once; this
bounds what they cannot see. Overhead per render: tens of microseconds of
JSON and a pipe round trip; tests/k8s/test_rendering.py prints it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import sys
import time
from collections.abc import Mapping
from typing import Any, Protocol

from conveyor.core import images, model, render, safejson

logger = logging.getLogger("conveyor.rendering")

DEADLINE = 2.0  # seconds; a real Job template renders in about a millisecond
POOL_SIZE = 2  # children: one spinning to its deadline leaves the other to everyone else
MEMORY_LIMIT = 512 * 1024 * 1024  # bytes of address space for the child
# How long the child may take to import and say it is ready, on a loaded node.
_STARTUP = 60.0
_READY = b'{"ready": true}'
# The largest line either way: a rendered Job is at most 1 MiB (sandbox.MAX_OUTPUT).
_LINE_LIMIT = 16 * 1024 * 1024


class Render(Protocol):
    """What the controllers render Jobs with: `Renderer` in the operator,
    `InProcess` in the shell's unit tests (no child process to start)."""

    async def render(
        self, *, job_body: Mapping[str, Any], worker_body: Mapping[str, Any], attempt: int
    ) -> dict[str, Any] | model.SpecError: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class InProcess:
    """Renders in the calling thread, with only the sandbox's budgets: for
    unit tests of the shell, where templates are small and known."""

    def __init__(self, *, agent_image: str = images.DEFAULT_AGENT) -> None:
        self.agent_image = agent_image

    async def render(
        self, *, job_body: Mapping[str, Any], worker_body: Mapping[str, Any], attempt: int
    ) -> dict[str, Any] | model.SpecError:
        return handle_bodies(
            job_body=job_body,
            worker_body=worker_body,
            attempt=attempt,
            agent_image=self.agent_image,
        )

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class Renderer:
    """`await render(...)` gives the Job manifest or the SpecError; never raises
    for a user's object. Renders one at a time (the child is single-threaded)."""

    def __init__(
        self,
        *,
        deadline: float = DEADLINE,
        memory_limit: int = MEMORY_LIMIT,
        agent_image: str = images.DEFAULT_AGENT,
    ) -> None:
        self.deadline = deadline
        self.memory_limit = memory_limit
        # The operator's setting, sent with each request to whichever child renders it.
        self.agent_image = agent_image
        self.restarts = 0  # children killed or lost, for tests and metrics
        self._child: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._restart: asyncio.Task[None] | None = None

    async def render(
        self,
        *,
        job_body: Mapping[str, Any],
        worker_body: Mapping[str, Any],
        attempt: int,
    ) -> dict[str, Any] | model.SpecError:
        """The manifest for `attempt`; over the deadline, a SpecError on the
        Worker's jobTemplate (or on spec.params, for a default template).

        Raises RuntimeError only when no renderer process can start at all: not
        the object's fault, so the caller retries it later.
        """
        try:
            request = json.dumps(
                {
                    "job": job_body,
                    "worker": worker_body,
                    "attempt": attempt,
                    "agentImage": self.agent_image,
                }
            )
        except (RecursionError, ValueError, TypeError) as exc:  # bodies are checked before
            return model.SpecError(field="spec", message=f"cannot be rendered: {exc}")
        request += "\n"
        field = _field(worker_body)
        async with self._lock:
            child = await self._running()
            assert child.stdin is not None
            assert child.stdout is not None
            try:
                child.stdin.write(request.encode())
                await child.stdin.drain()
                line = await asyncio.wait_for(child.stdout.readline(), self.deadline)
            except TimeoutError:
                await self._kill()
                return model.SpecError(
                    field=field,
                    message=f"rendering the Job took longer than {self.deadline:g}s; "
                    "look for loops that run too long",
                )
            except (ConnectionError, ValueError, OSError):
                line = b""  # the child died (or printed a line over the limit)
            if not line:
                await self._kill()
                return model.SpecError(
                    field=field, message="rendering the Job stopped the renderer"
                )
        return _answer(safejson.loads(line))

    @property
    def up(self) -> bool:
        """Its child is running and no restart is pending."""
        restarting = self._restart is not None and not self._restart.done()
        return self._child is not None and self._child.returncode is None and not restarting

    async def start(self) -> None:
        """Start the child now (a standby does, during its wait), so the first
        render does not wait for its imports. A failure here is retried at
        the first render."""
        try:
            async with self._lock:
                await self._running()
        except (RuntimeError, OSError):
            logger.warning("the renderer process did not start; retrying at the first render")

    async def close(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
        async with self._lock:
            await self._kill(count=False)

    async def _running(self) -> asyncio.subprocess.Process:
        """The child, started if need be and ready: its imports do not count
        against a render's deadline."""
        if self._child is None or self._child.returncode is not None:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "conveyor.k8s.rendering",
                str(self.memory_limit),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
            )
            assert child.stdout is not None
            self._child = child
            try:
                ready = await asyncio.wait_for(child.stdout.readline(), _STARTUP)
            except TimeoutError:
                ready = b""
            if ready.strip() != _READY:
                await self._kill(count=False)  # not restarted in a loop: the next render tries
                raise RuntimeError("the renderer process did not start")
        return self._child

    async def _kill(self, *, count: bool = True) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        if count:
            self.restarts += 1
            logger.warning("the renderer process was stopped (pid %s); starting another", child.pid)
            # At once, in the background: the next render should not wait for imports.
            self._restart = asyncio.create_task(self.start())


def _field(worker_body: Mapping[str, Any]) -> str:
    """Whose fault a render over budget is: the Worker's own template, or else
    the params a default template prints (those templates have no loops to spin)."""
    spec = worker_body.get("spec")
    if isinstance(spec, Mapping) and spec.get("jobTemplate") is not None:
        return render.WORKER_TEMPLATE_FIELD
    return "spec.params"


def _answer(reply: Any) -> dict[str, Any] | model.SpecError:
    if isinstance(reply, dict) and isinstance(reply.get("manifest"), dict):
        manifest: dict[str, Any] = reply["manifest"]
        return manifest
    error = reply.get("error") if isinstance(reply, dict) else None
    if isinstance(error, dict):
        return model.SpecError(field=str(error.get("field")), message=str(error.get("message")))
    return model.SpecError(field="spec", message="the renderer gave no answer")


class Pool:
    """A few `Renderer`s, so a template spinning to its deadline in one child
    holds up no render of another Worker: each render takes an idle child,
    one that is up (not restarting after a kill) if there is one."""

    def __init__(
        self,
        *,
        size: int = POOL_SIZE,
        deadline: float = DEADLINE,
        agent_image: str = images.DEFAULT_AGENT,
    ) -> None:
        self.members = [Renderer(deadline=deadline, agent_image=agent_image) for _ in range(size)]
        self._idle = list(self.members)
        self._freed = asyncio.Condition()

    @property
    def restarts(self) -> int:
        return sum(r.restarts for r in self.members)

    async def render(
        self, *, job_body: Mapping[str, Any], worker_body: Mapping[str, Any], attempt: int
    ) -> dict[str, Any] | model.SpecError:
        async with self._freed:
            await self._freed.wait_for(lambda: bool(self._idle))
            member = next((r for r in self._idle if r.up), self._idle[0])
            self._idle.remove(member)
        try:
            return await member.render(job_body=job_body, worker_body=worker_body, attempt=attempt)
        finally:
            async with self._freed:
                self._idle.append(member)
                self._freed.notify()

    async def start(self) -> None:
        await asyncio.gather(*(r.start() for r in self.members))

    async def close(self) -> None:
        await asyncio.gather(*(r.close() for r in self.members))


# --- the child ----------------------------------------------------------------


def handle_bodies(
    *,
    job_body: Mapping[str, Any],
    worker_body: Mapping[str, Any],
    attempt: int,
    agent_image: str = images.DEFAULT_AGENT,
) -> dict[str, Any] | model.SpecError:
    """Render from the bodies as the store holds them."""
    job = model.parse_pipelinejob(job_body)
    worker = model.parse_worker(worker_body)
    try:
        return render.attempt_manifest(
            job=job, worker=worker, attempt=attempt, agent_image=agent_image
        )
    except MemoryError:
        return model.SpecError(
            field=render.WORKER_TEMPLATE_FIELD, message="rendering the Job used too much memory"
        )


def handle(request: Mapping[str, Any]) -> dict[str, Any]:
    """One request in the child: bodies in, {"manifest"} or {"error"} out."""
    result = handle_bodies(
        job_body=request["job"],
        worker_body=request["worker"],
        attempt=int(request["attempt"]),
        agent_image=str(request.get("agentImage") or images.DEFAULT_AGENT),
    )
    if isinstance(result, model.SpecError):
        return {"error": {"field": result.field, "message": result.message}}
    return {"manifest": result}


def serve(*, memory_limit: int) -> None:
    """The child's loop: one JSON line in, one out, until stdin closes."""
    with contextlib.suppress(ValueError, OSError):  # not every platform can cap memory
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    sys.stdout.write(_READY.decode() + "\n")
    sys.stdout.flush()
    for line in sys.stdin.buffer:
        started = time.perf_counter()
        reply = handle(safejson.loads(line))
        reply["seconds"] = time.perf_counter() - started
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(memory_limit=int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_LIMIT)
