"""The benchmark's own view of the API: the operator's JSON client for writes
and plain watch streams, timestamped on receipt, for measuring.

The load generator and the watchers run in the benchmark process, apart from
the operator's process, with their own connections and user agent.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp
import kopf

from bench.infra import BenchError, log
from conveyor.k8s import api, login
from tests import builders

USER_AGENT = "conveyor-bench"
SERVICEACCOUNTS = api.Resource(group="", version="v1", plural="serviceaccounts")
BENCH_LABEL = "bench.conveyor.dev/run"

# (event type, object, monotonic receipt time)
Handler = Callable[[str, dict[str, Any], float], None]


def connection(kubeconfig: pathlib.Path) -> kopf.ConnectionInfo:
    os.environ["KUBECONFIG"] = str(kubeconfig)
    info = kopf.login_with_kubeconfig(settings=kopf.OperatorSettings())
    if info is None:
        raise BenchError(f"no credentials in {kubeconfig}")
    return info


def client(kubeconfig: pathlib.Path) -> api.Client:
    return api.Client(login=login.Source(kubeconfig=str(kubeconfig)), user_agent=USER_AGENT)


# --- objects ---------------------------------------------------------------------


def worker(name: str, *, concurrency: int, type: str = "build") -> dict[str, Any]:
    return builders.worker(name).type(type).concurrency(concurrency).obj()


def pipelinejob(
    name: str, *, worker: str, run_time: str = "1s", revoke: bool = False
) -> dict[str, Any]:
    """A custom PipelineJob whose simulated pod runs `run_time`, labelled as
    the benchmark's (so a run can find and delete its own)."""
    job = builders.pipelinejob(name).worker(worker).sim(run_time=run_time)
    if revoke:
        job.revoke()
    return job.labels({BENCH_LABEL: "1"}).obj()


def plain_job(name: str, *, run_time: str) -> dict[str, Any]:
    """The batch/v1 Job Conveyor would create for `pipelinejob(name)`, rendered
    by Conveyor's own renderer, without Conveyor's labels (so no operator
    would ever look at it): the baseline runs the very same pods."""
    from conveyor.core import model, params, render

    body = pipelinejob(name, worker="build", run_time=run_time)
    body["metadata"]["namespace"] = "baseline"
    job = model.parse_pipelinejob(body)
    pool = model.parse_worker({**worker("build", concurrency=1), "metadata": {"name": "build"}})
    assert job.spec is not None
    parsed = params.validate(job_type=job.spec.type, params=job.spec.params)
    if isinstance(parsed, model.SpecError):
        raise BenchError(f"the baseline's params do not validate: {parsed.message}")
    manifest = render.render_job(
        job=job,
        worker=pool,
        attempt=1,
        params=parsed.model_dump(by_alias=True, mode="json", exclude_none=True),
    )
    manifest["metadata"] = {"name": name, "labels": {BENCH_LABEL: "1"}}
    template = manifest["spec"]["template"]
    labels = (template.get("metadata") or {}).get("labels") or {}
    for key in [k for k in labels if k.startswith("conveyor.dev/") or "managed-by" in k]:
        del labels[key]
    return manifest


# --- namespaces -----------------------------------------------------------------


async def create_namespace(c: api.Client, name: str, *, timeout: float = 60) -> None:
    await c.create(
        api.NAMESPACES,
        namespace="",
        body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    # The ServiceAccount controller creates `default`; Jobs' pods need it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await c.get(SERVICEACCOUNTS, namespace=name, name="default")
            return
        except api.ApiError as exc:
            if not exc.not_found:
                raise
        await asyncio.sleep(0.1)
    raise BenchError(f"namespace {name}: no default ServiceAccount after {timeout}s")


async def delete_namespace(c: api.Client, name: str, *, timeout: float = 600) -> float:
    """Delete it and wait until it is gone; returns the seconds it took."""
    started = time.monotonic()
    try:
        await c.delete(api.NAMESPACES, namespace="", name=name)
    except api.ApiError as exc:
        if exc.not_found:
            return 0.0
        raise
    while time.monotonic() - started < timeout:
        try:
            await c.get(api.NAMESPACES, namespace="", name=name)
        except api.ApiError as exc:
            if exc.not_found:
                return time.monotonic() - started
            raise
        await asyncio.sleep(0.5)
    raise BenchError(f"namespace {name} still there after {timeout}s")


async def create_all(
    c: api.Client,
    resource: api.Resource,
    *,
    namespace: str,
    bodies: Iterable[Mapping[str, Any]],
    parallel: int = 50,
    on_created: Callable[[str, float], None] | None = None,
) -> None:
    """Create objects with at most `parallel` requests in flight."""
    semaphore = asyncio.Semaphore(parallel)

    async def one(body: Mapping[str, Any]) -> None:
        async with semaphore:
            try:
                await c.create(resource, namespace=namespace, body=body)
            except api.ApiError as exc:
                if not exc.already_exists:
                    raise
        if on_created is not None:
            on_created(body["metadata"]["name"], time.monotonic())

    await asyncio.gather(*(one(b) for b in bodies))


# --- watching --------------------------------------------------------------------


class Watcher:
    """List, then watch one resource in one namespace; every event goes to
    `handler` with the monotonic time its bytes arrived."""

    def __init__(
        self,
        *,
        info: kopf.ConnectionInfo,
        resource: api.Resource,
        namespace: str,
        handler: Handler,
        label_selector: str | None = None,
    ) -> None:
        self.info = info
        self.resource = resource
        self.namespace = namespace
        self.handler = handler
        self.label_selector = label_selector
        self.error: BaseException | None = None
        self.events = 0
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _path(self) -> str:
        return self.resource.path(namespace=self.namespace).lstrip("/")

    def _params(self, **extra: str) -> dict[str, str]:
        params = dict(extra)
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        return params

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            base_url=self.info.server.rstrip("/") + "/",
            headers={"User-Agent": USER_AGENT, **self.info.as_http_headers()},
            connector=aiohttp.TCPConnector(ssl=self.info.as_ssl_context(), limit=4),
        )
        resource_version = await self._list()
        self._task = asyncio.create_task(self._run(resource_version))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def check(self) -> None:
        if self.error is not None:
            raise BenchError(f"watch on {self.resource.plural} failed: {self.error!r}")

    async def _list(self) -> str:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=120)
        async with self._session.get(self._path(), params=self._params(), timeout=timeout) as r:
            text = await r.text()
            if r.status != 200:
                raise BenchError(f"list {self.resource.plural}: {r.status} {text[:300]}")
        received = time.monotonic()
        listing = json.loads(text)
        for item in listing.get("items") or ():
            self.handler("ADDED", item, received)
        return str(listing["metadata"]["resourceVersion"])

    async def _run(self, resource_version: str) -> None:
        try:
            while True:
                resource_version = await self._watch_once(resource_version)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.error = exc
            log(f"watch on {self.resource.plural} in {self.namespace} failed: {exc!r}")

    async def _watch_once(self, resource_version: str) -> str:
        """One watch request; returns the resourceVersion to go on from."""
        assert self._session is not None
        params = self._params(
            watch="1",
            resourceVersion=resource_version,
            allowWatchBookmarks="true",
            timeoutSeconds="290",
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None)
        try:
            async with self._session.get(self._path(), params=params, timeout=timeout) as r:
                if r.status != 200:
                    raise BenchError(f"watch {self.resource.plural}: {r.status} {await r.text()}")
                buffer = b""
                async for chunk in r.content.iter_any():
                    received = time.monotonic()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            if obj.get("code") == 410:  # too old: list again
                                return await self._list()
                            raise BenchError(f"watch {self.resource.plural}: {obj}")
                        resource_version = obj["metadata"]["resourceVersion"]
                        if kind == "BOOKMARK":
                            continue
                        self.events += 1
                        self.handler(str(kind), obj, received)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log(f"watch on {self.resource.plural} interrupted ({exc!r}); resuming")
            await asyncio.sleep(0.5)
        return resource_version


async def wait_until(
    what: str,
    done: Callable[[], bool],
    *,
    timeout: float,
    watchers: Iterable[Watcher] = (),
    progress: Callable[[], str] | None = None,
    interval: float = 0.05,
) -> None:
    """Poll `done` until true; fail after `timeout` naming `what` and its progress."""
    watchers = list(watchers)
    deadline = time.monotonic() + timeout
    next_note = time.monotonic() + 30
    while not done():
        for w in watchers:
            w.check()
        now = time.monotonic()
        if now > deadline:
            state = f" ({progress()})" if progress else ""
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}{state}")
        if progress is not None and now > next_note:
            log(f"  still waiting for {what}: {progress()}")
            next_note = now + 30
        await asyncio.sleep(interval)


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def job_finished(job: Mapping[str, Any]) -> bool:
    """Complete or failed, by the conditions Conveyor itself frees a slot on."""
    return any(
        c.get("status") == "True"
        and c.get("type") in ("Complete", "SuccessCriteriaMet", "Failed", "FailureTarget")
        for c in (job.get("status") or {}).get("conditions") or ()
    )


def job_failed(job: Mapping[str, Any]) -> bool:
    return any(
        c.get("status") == "True" and c.get("type") in ("Failed", "FailureTarget")
        for c in (job.get("status") or {}).get("conditions") or ()
    )
