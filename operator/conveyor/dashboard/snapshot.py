"""What the pages read: the store's objects, parsed once per change rather
than once per page view. 50 browsers and 5,000 jobs share one parse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from conveyor.core import model, progress
from conveyor.dashboard import store as store_


@dataclasses.dataclass(frozen=True, kw_only=True)
class Snapshot:
    version: int
    jobs: tuple[model.PipelineJob, ...]
    job_bodies: dict[store_.Key, dict[str, Any]]
    workers: tuple[model.Worker, ...]
    worker_bodies: tuple[dict[str, Any], ...]
    runs: tuple[dict[str, Any], ...]
    pipelines: tuple[dict[str, Any], ...]
    pods: tuple[dict[str, Any], ...]
    events: tuple[dict[str, Any], ...]
    typical: progress.Typical
    sync: dict[str, str]

    def jobs_by_key(self) -> dict[store_.Key, model.PipelineJob]:
        return {j.key: j for j in self.jobs}


class Snapshots:
    """The latest snapshot, rebuilt lazily when the store's version moved."""

    def __init__(self, *, store: store_.Store) -> None:
        self._store = store
        self._latest: Snapshot | None = None
        self._parsed: dict[tuple[str, str], model.PipelineJob] = {}  # (uid, rv) -> job

    def get(self) -> Snapshot:
        if self._latest is None or self._latest.version != self._store.version:
            self._latest = self._build()
        return self._latest

    def _parse(self, body: dict[str, Any]) -> model.PipelineJob:
        meta = body.get("metadata") or {}
        key = (str(meta.get("uid") or id(body)), str(meta.get("resourceVersion") or ""))
        found = self._parsed.get(key)
        if found is None:
            found = self._parsed[key] = model.parse_pipelinejob(body)
        return found

    def _build(self) -> Snapshot:
        store = self._store
        bodies = store.items("pipelinejobs")
        jobs = tuple(self._parse(b) for b in bodies)
        live = {
            (j.meta.uid or str(id(b)), j.meta.resource_version)
            for j, b in zip(jobs, bodies, strict=True)
        }
        self._parsed = {k: v for k, v in self._parsed.items() if k in live}
        worker_bodies = tuple(store.items("workers"))
        return Snapshot(
            version=store.version,
            jobs=jobs,
            job_bodies={store_.key_of(b): b for b in bodies},
            workers=tuple(model.parse_worker(b) for b in worker_bodies),
            worker_bodies=worker_bodies,
            runs=tuple(store.items("pipelineruns")),
            pipelines=tuple(store.items("pipelines")),
            pods=tuple(store.items("pods")),
            events=tuple(store.items("events")),
            typical=progress.typical_run_times(jobs=jobs),
            sync=store.health(),
        )


Factory = Callable[[], Snapshot]
