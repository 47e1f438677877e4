"""Async helpers for end-to-end tests, on the operator's own API client."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from conveyor.k8s import api, login
from tests import builders

PJ = api.PIPELINEJOBS
WK = api.WORKERS
PCJ = api.PIPELINECRONJOBS


def connection(kubeconfig: str) -> login.Source:
    return login.Source(kubeconfig=kubeconfig)


class Kube:
    """One test namespace, seen through the API."""

    def __init__(self, *, client: api.Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        resource = _resource_for(body)
        return await self.client.create(resource, namespace=self.namespace, body=body)

    async def get(self, resource: api.Resource, name: str) -> dict[str, Any]:
        return await self.client.get(resource, namespace=self.namespace, name=name)

    async def pj(self, name: str) -> dict[str, Any]:
        return await self.get(PJ, name)

    async def patch(self, resource: api.Resource, name: str, patch: Mapping[str, Any]) -> None:
        await self.client.request(
            "PATCH",
            resource.path(namespace=self.namespace, name=name),
            body=patch,
            content_type=api.MERGE_PATCH,
        )

    async def delete(self, resource: api.Resource, name: str) -> None:
        await self.client.delete(resource, namespace=self.namespace, name=name)

    async def list(self, resource: api.Resource, **params: str) -> list[dict[str, Any]]:
        listing = await self.client.list(resource, namespace=self.namespace, **params)
        return list(listing.get("items") or [])

    async def wait_for(
        self,
        what: str,
        probe: Callable[[], Awaitable[Any]],
        *,
        timeout: float = 60,
        interval: float = 0.2,
    ) -> Any:
        """Poll `probe` until it returns something truthy; fail naming `what`."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = await probe()
            except api.ApiError as exc:
                last = exc
            if last and not isinstance(last, Exception):
                return last
            await asyncio.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")

    async def wait_state(
        self, name: str, *states: str, reason: str | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            body = await self.pj(name)
            st = body.get("status") or {}
            if st.get("state") in states and (reason is None or st.get("reason") == reason):
                return body
            return None

        want = "/".join(states) + (f" ({reason})" if reason else "")
        try:
            result: dict[str, Any] = await self.wait_for(f"{name} {want}", probe, timeout=timeout)
        except AssertionError:
            body = await self.pj(name)
            raise AssertionError(
                f"{name} never reached {want}; status: {json.dumps(body.get('status'), indent=1)}"
            ) from None
        return result

    async def wait_gone(self, resource: api.Resource, name: str, *, timeout: float = 60) -> None:
        async def gone() -> bool:
            try:
                await self.get(resource, name)
            except api.ApiError as exc:
                return exc.not_found
            return False

        await self.wait_for(f"{resource.plural}/{name} deleted", gone, timeout=timeout)

    async def queue_behind_full_worker(
        self, *, holder: str, waiting: str, run_time: str = "60s"
    ) -> None:
        """Worker `build` with one slot held by `holder`; `waiting` queued behind it."""
        await self.create(builders.worker("build").concurrency(1).obj())
        await self.create(builders.pipelinejob(holder).sim(run_time=run_time).obj())
        await self.wait_state(holder, "RUNNING")
        await self.create(builders.pipelinejob(waiting).obj())
        await self.wait_state(waiting, "IN-QUEUE", reason="ConcurrencyLimit")

    async def events_for(self, name: str) -> list[dict[str, Any]]:
        items = await self.list(api.EVENTS, fieldSelector=f"involvedObject.name={name}")
        return sorted(items, key=lambda e: e.get("lastTimestamp") or "")

    async def wait_events(self, name: str, *reasons: str, timeout: float = 30) -> list[str]:
        """Events are posted in the background: wait until these reasons appear."""

        async def probe() -> list[str] | None:
            seen = [e.get("reason", "") for e in await self.events_for(name)]
            return seen if set(reasons) <= set(seen) else None

        found: list[str] = await self.wait_for(
            f"events {reasons} on {name}", probe, timeout=timeout
        )
        return found


def _resource_for(body: Mapping[str, Any]) -> api.Resource:
    kind = body.get("kind")
    return {
        "PipelineJob": PJ,
        "Worker": WK,
        "PipelineCronJob": PCJ,
        "Job": api.JOBS,
        "Pod": api.PODS,
    }[str(kind)]


class JobWatcher:
    """Watches Jobs in a namespace and records, at every event, how many are
    active per Worker: the ground truth for the concurrency limit."""

    def __init__(self, *, client: api.Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.active: dict[str, set[str]] = {}
        self.max_active: dict[str, int] = {}
        self.seen: dict[str, str] = {}  # Job name -> uid (a second uid = a duplicate)
        self.duplicates: list[str] = []
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        resource_version = "0"
        while True:
            session = self.client._get_session()
            params = {
                "watch": "1",
                "resourceVersion": resource_version,
                "allowWatchBookmarks": "true",
                "labelSelector": "conveyor.dev/pipelinejob",
            }
            path = api.JOBS.path(namespace=self.namespace).lstrip("/")
            try:
                async with session.get(path, params=params, timeout=None) as response:
                    async for line in response.content:
                        event = json.loads(line)
                        obj = event["object"]
                        if event["type"] == "ERROR":  # e.g. 410 Gone: start over
                            resource_version = "0"
                            break
                        resource_version = obj["metadata"]["resourceVersion"]
                        if event["type"] == "BOOKMARK":
                            continue
                        self._record(event["type"], obj)
            except (aiohttp.ClientError, TimeoutError):
                # The API server restarting (fault tests): watch on from where we were.
                self.reconnects += 1
                await asyncio.sleep(0.5)

    def _record(self, event_type: str, job: Mapping[str, Any]) -> None:
        md = job["metadata"]
        name, uid = md["name"], md["uid"]
        worker = (md.get("labels") or {}).get("conveyor.dev/worker", "")
        if self.seen.setdefault(name, uid) != uid:
            self.duplicates.append(name)
        done = event_type == "DELETED" or any(
            c.get("status") == "True"
            and c.get("type") in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet")
            for c in (job.get("status") or {}).get("conditions") or ()
        )
        active = self.active.setdefault(worker, set())
        if done:
            active.discard(name)
        else:
            active.add(name)
        self.max_active[worker] = max(self.max_active.get(worker, 0), len(active))


def scrape(url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    with urllib.request.urlopen(url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if not line.startswith(name + "{"):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total
