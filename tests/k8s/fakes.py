"""Fakes for testing the shell without a cluster: a recording API server
(the interface of conveyor.k8s.api.Client), a fake clock, and a harness
that runs the controller's rounds until nothing is left to do.

The fake server keeps objects by resource, answers as the API server does
(resourceVersions, Conflict on a stale write, AlreadyExists, NotFound) and
records every request. Its watch events are held until `deliver`, so a test
decides when the operator learns of a change.
"""

from __future__ import annotations

import collections
import copy
import datetime
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from conveyor.core import model
from conveyor.k8s import api, clock, controller, rendering, settings, store
from tests import builders as b

NS = b.NAMESPACE
Key = tuple[str, str]
Request = tuple[str, str, str]  # (verb, plural, name)
WRITES = frozenset({"POST", "PATCH", "DELETE"})

_BY_PLURAL = {
    r.plural: r
    for r in (
        api.PIPELINEJOBS,
        api.WORKERS,
        api.PIPELINECRONJOBS,
        api.PIPELINES,
        api.PIPELINERUNS,
        api.JOBS,
        api.PODS,
        api.EVENTS,
    )
}


def _merge(old: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(old) if isinstance(old, Mapping) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def _error(status: int, reason: str) -> api.ApiError:
    return api.ApiError(status=status, reason=reason, message=reason)


class FakeTime:
    """Wall and monotonic time that move only when told."""

    def __init__(self, *, start: datetime.datetime = b.T0) -> None:
        self.wall = start.timestamp()
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def clock(self) -> clock.Clock:
        return clock.Clock(wall=lambda: self.wall, monotonic=lambda: self.mono)


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, dict[str, Any]]] = collections.defaultdict(dict)
        self.requests: list[Request] = []
        self.events: list[tuple[str, str, dict[str, Any]]] = []  # (plural, type, body)
        self.faults: dict[tuple[str, str], list[api.ApiError]] = collections.defaultdict(list)
        self.lost: dict[tuple[str, str], list[api.ApiError]] = collections.defaultdict(list)
        self._rv = itertools.count(100)
        # What the server stamps on a created object (set to the fake time by Harness).
        self.now: Callable[[], datetime.datetime] | None = None

    # --- test controls ------------------------------------------------------------

    def put(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object as a user or a Kubernetes controller would."""
        body = copy.deepcopy(body)
        md = body.setdefault("metadata", {})
        md.setdefault("uid", f"uid-{plural}-{md['name']}")
        md["resourceVersion"] = str(next(self._rv))
        key = store.key_of(body)
        kind = "MODIFIED" if key in self.objects[plural] else "ADDED"
        self.objects[plural][key] = body
        self.events.append((plural, kind, copy.deepcopy(body)))
        return body

    def remove(self, plural: str, name: str) -> None:
        body = self.objects[plural].pop((NS, name))
        self.events.append((plural, "DELETED", body))

    def fail(self, verb: str, plural: str, error: api.ApiError, *, after: bool = False) -> None:
        """The next `verb` on `plural` fails with `error`; `after`: it is done
        but its answer is lost (a timeout)."""
        (self.lost if after else self.faults)[(verb, plural)].append(error)

    def get_status(self, plural: str, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self.objects[plural][(NS, name)].get("status") or {}
        return status

    def writes(self, plural: str | None = None) -> collections.Counter[tuple[str, str]]:
        """The writes made so far, by (verb, plural); Events left out."""
        return collections.Counter(
            (verb, p)
            for verb, p, _ in self.requests
            if verb in WRITES and p != "events" and (plural is None or p == plural)
        )

    # --- the api.Client interface -----------------------------------------------------

    def _enter(self, verb: str, resource: api.Resource, name: str) -> None:
        self.requests.append((verb, resource.plural, name))
        faults = self.faults.get((verb, resource.plural))
        if faults:
            raise faults.pop(0)

    def _get(self, resource: api.Resource, namespace: str, name: str) -> dict[str, Any]:
        found = self.objects[resource.plural].get((namespace, name))
        if found is None:
            raise _error(404, "NotFound")
        return found

    async def list(
        self, resource: api.Resource, *, namespace: str | None = None, **params: str
    ) -> dict[str, Any]:
        """With `limit`, a page and a continue token (the next index), as the API server pages."""
        self._enter("LIST", resource, "")
        items = [
            o
            for (ns, _), o in self.objects[resource.plural].items()
            if namespace is None or ns == namespace
        ]
        start, rest = 0, ""
        if "limit" in params:
            start, limit = int(params.get("continue") or 0), int(params["limit"])
            rest = str(start + limit) if start + limit < len(items) else ""
            items = items[start : start + limit]
        return {"metadata": {"continue": rest}, "items": [copy.deepcopy(o) for o in items]}

    async def get(self, resource: api.Resource, *, namespace: str, name: str) -> dict[str, Any]:
        self._enter("GET", resource, name)
        return copy.deepcopy(self._get(resource, namespace, name))

    async def create(
        self, resource: api.Resource, *, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self._enter("POST", resource, name)
        if (namespace, name) in self.objects[resource.plural]:
            raise _error(409, "AlreadyExists")
        created = {**copy.deepcopy(dict(body)), "metadata": {**body["metadata"]}}
        created["metadata"]["namespace"] = namespace
        if self.now is not None:
            created["metadata"].setdefault("creationTimestamp", model.format_time(self.now()))
        answer = copy.deepcopy(self.put(resource.plural, created))
        lost = self.lost.get(("POST", resource.plural))
        if lost:
            raise lost.pop(0)
        return answer

    async def patch_status(
        self, resource: api.Resource, *, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("PATCH", resource, name)
        return self._patch(resource, namespace, name, patch, part="status")

    def _patch(
        self,
        resource: api.Resource,
        namespace: str,
        name: str,
        patch: Mapping[str, Any],
        *,
        part: str,
    ) -> dict[str, Any]:
        current = self._get(resource, namespace, name)
        expected = (patch.get("metadata") or {}).get("resourceVersion")
        if expected is not None and expected != current["metadata"]["resourceVersion"]:
            raise _error(409, "Conflict")
        updated = {**current, part: _merge(current.get(part), patch.get(part) or {})}
        return copy.deepcopy(self.put(resource.plural, updated))

    async def delete(
        self, resource: api.Resource, *, namespace: str, name: str, propagation: str = "Background"
    ) -> None:
        self._enter("DELETE", resource, name)
        self._get(resource, namespace, name)
        self.remove(resource.plural, name)

    async def request(
        self, method: str, path: str, *, body: Any = None, **_: Any
    ) -> dict[str, Any]:
        """Only what the operator sends raw: a merge patch of a PipelineJob's spec."""
        parts = path.strip("/").split("/")
        resource, name = _BY_PLURAL[parts[-2]], parts[-1]
        self._enter(method, resource, name)
        return self._patch(resource, parts[-3], name, body, part="spec")


class Harness:
    """A Controller on a FakeApi and FakeTime, driven round by round."""

    def __init__(self, *, renderer: rendering.Render | None = None, **settings_fields: Any) -> None:
        self.api = FakeApi()
        self.time = FakeTime()
        self.api.now = lambda: datetime.datetime.fromtimestamp(self.time.wall, tz=datetime.UTC)
        self.ctl = controller.Controller(
            client=self.api,  # type: ignore[arg-type]
            settings=settings.Settings(**settings_fields),
            clock=self.time.clock(),
            renderer=renderer or rendering.InProcess(),
        )

    async def start(self) -> None:
        """The operator's start: list everything, then settle."""
        self.api.events.clear()  # what the listing shows, it need not hear again
        await self.ctl.prime()
        await self.settle()

    def deliver(self) -> None:
        """The watch events so far reach the operator."""
        feeds = {
            "pipelinejobs": self.ctl.on_pipelinejob,
            "workers": self.ctl.on_worker,
            "jobs": self.ctl.on_job,
            "pods": self.ctl.on_pod,
            "pipelinecronjobs": self.ctl.on_cronjob,
            "pipelineruns": self.ctl.on_pipelinerun,
            "pipelines": self.ctl.on_pipeline,
        }
        events, self.api.events = self.api.events, []
        for plural, kind, body in events:
            if plural in feeds:
                feeds[plural](kind, copy.deepcopy(body))

    async def settle(self, *, watch: bool = True) -> None:
        """Run rounds (delivering watch events if `watch`) until nothing is
        marked and no write is in flight."""
        q = self.ctl.queue
        for _ in range(100):
            if watch:
                self.deliver()
            q.wake()  # so wait() returns at once, having moved the due timers
            await q.wait(busy=self.ctl.effects.inflight)
            if not (q.jobs or q.namespaces or q.crons or q.runs or self.ctl.effects.inflight):
                if not (watch and self.api.events):
                    return
                continue
            self.ctl.round()
            await self.ctl.effects.settle()
            await self.ctl.effects.recorder.settle()
        raise AssertionError("the controller did not settle in 100 rounds")

    async def tick(self, seconds: float, *, watch: bool = True) -> None:
        """Time passes: timers due by then fire, and the controller settles."""
        self.time.advance(seconds)
        await self.settle(watch=watch)

    # --- what a user and the Kubernetes controllers do -------------------------------

    def worker(self, name: str = "build", **fields: Any) -> None:
        builder = b.worker(name)
        for field, value in fields.items():
            builder = getattr(builder, _WORKER_FIELDS.get(field, field))(value)
        self.api.put("workers", builder.served())

    def pipelinejob(self, name: str = "j", **fields: Any) -> None:
        fields.setdefault("type", "build")
        fields.setdefault("spec_worker", "build")
        builder = b.pipelinejob(name)
        for field, value in fields.items():
            builder = getattr(builder, _PIPELINEJOB_FIELDS.get(field, field))(value)
        body = builder.served()
        body.pop("status", None) if "state" not in fields else None
        self.api.put("pipelinejobs", body)

    def pod(self, pod: dict[str, Any], *, pipelinejob: str = "j") -> None:
        """A pod of one of our Jobs, as the Job controller and kubelet report it."""
        pod["metadata"]["labels"][store.LABEL_PIPELINEJOB] = pipelinejob
        self.api.put("pods", pod)

    def job_status(self, name: str, **status: Any) -> None:
        """The Job controller updates a Job's status (`conditions=b.complete()`)."""
        job = copy.deepcopy(self.api.objects["jobs"][(NS, name)])
        job["status"] = {**(job.get("status") or {}), **status}
        self.api.put("jobs", job)

    def status_of(self, name: str = "j") -> dict[str, Any]:
        return self.api.get_status("pipelinejobs", name)


# Harness keywords that differ from the builders' method names.
_PIPELINEJOB_FIELDS = {"worker": "assigned", "spec_worker": "worker", "extra_spec": "spec"}
_WORKER_FIELDS = {"spec": "whole_spec"}
