"""The operator's in-memory view of the cluster, fed by watch events and by
the responses to its own writes.

Nothing here is the source of truth: it is rebuilt from the API at every
start. Writes recorded here before they reach the API ("assume, then write")
keep concurrency accounting right between a decision and its watch event.
"""

from __future__ import annotations

import collections
import collections.abc
from collections.abc import Iterator, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import cron, model, names

Key = tuple[str, str]

# Labels on every Job and pod Conveyor creates.
# Defined in core/names.py (one source).
LABEL_PIPELINEJOB = names.LABEL_PIPELINEJOB
LABEL_ATTEMPT = names.LABEL_ATTEMPT
LABEL_WORKER = names.LABEL_WORKER
LABEL_JOB_NAME = names.LABEL_JOB_NAME


def key_of(body: Mapping[str, Any]) -> Key:
    md = body.get("metadata") or {}
    return (md.get("namespace") or "", md.get("name") or "")


def _lean(body: dict[str, Any]) -> dict[str, Any]:
    """The body without metadata.managedFields: about half of a small object's
    bytes, and never read here."""
    md = body.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        return {**body, "metadata": {k: v for k, v in md.items() if k != "managedFields"}}
    return body


def _cron_of(body: Mapping[str, Any] | None) -> str | None:
    labels = ((body or {}).get("metadata") or {}).get("labels") or {}
    value = labels.get(cron.CRONJOB_LABEL)
    return str(value) if value else None


def _newer(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """Whether `new` is a later version of the object than `old`.

    resourceVersions are opaque by contract but integers in etcd-backed
    servers; compare them as such when possible so a late watch event never
    overwrites a fresher response to our own write.
    """
    if old is None:
        return True
    new_rv = (new.get("metadata") or {}).get("resourceVersion") or ""
    old_rv = (old.get("metadata") or {}).get("resourceVersion") or ""
    if new_rv.isdigit() and old_rv.isdigit():
        return int(new_rv) > int(old_rv)
    return bool(new_rv != old_rv)


class Store:
    def __init__(self) -> None:
        self.pipelinejob_bodies: dict[Key, dict[str, Any]] = {}
        self.pipelinejobs: dict[Key, model.PipelineJob] = {}
        self.worker_bodies: dict[Key, dict[str, Any]] = {}
        self.workers: dict[Key, model.Worker] = {}
        self.jobs: dict[Key, dict[str, Any]] = {}
        self.pods: dict[Key, dict[str, Any]] = {}
        self._pods_by_job: dict[Key, set[str]] = collections.defaultdict(set)
        self.cronjobs: dict[Key, dict[str, Any]] = {}
        # Jobs not finished, per namespace: what scheduling passes look at.
        self._active: dict[str, set[str]] = collections.defaultdict(set)
        # Statuses decided but not yet confirmed by the API, and the API's.
        self._assumed: dict[Key, dict[str, Any]] = {}
        self._written: dict[Key, dict[str, Any]] = {}
        # PipelineJobs per PipelineCronJob that created them (by label).
        self._by_cron: dict[Key, set[str]] = collections.defaultdict(set)

    # --- PipelineJobs ---------------------------------------------------------

    def put_pipelinejob(self, body: dict[str, Any], *, force: bool = False) -> bool:
        """Record a version of a PipelineJob; `force` for the API's answer to
        our own write or read, which also ends an assumption."""
        key = key_of(body)
        if not force and not _newer(body, self.pipelinejob_bodies.get(key)):
            return False
        body = _lean(body)
        if force:
            self._assumed.pop(key, None)
            self._written.pop(key, None)
        elif key in self._assumed:
            # A watch event older than our write: keep what we decided.
            self._written[key] = body.get("status") or {}
            body = {**body, "status": self._assumed[key]}
        self._put(key, body)
        return True

    def _put(self, key: Key, body: dict[str, Any]) -> None:
        self._index_cron(key, old=self.pipelinejob_bodies.get(key), new=body)
        job = model.parse_pipelinejob(body)
        self._count(self.pipelinejobs.get(key), -1)
        self._count(job, +1)
        self.pipelinejob_bodies[key] = body
        self.pipelinejobs[key] = job
        if job.status.state is not None and job.status.state.finished:
            self._inactive(key)
        else:
            self._active[key[0]].add(key[1])

    @staticmethod
    def _count(job: model.PipelineJob | None, delta: int) -> None:
        if job is not None:
            metrics.JOBS_BY_STATE.labels(
                job.meta.namespace, job.raw_type, str(job.status.state or "")
            ).inc(delta)

    def assume_status(self, key: Key, status: dict[str, Any]) -> None:
        """Record a status we decided before the API has it ("assume, then
        write"), so the next decisions count its slot taken or freed. It holds
        until the answer to our write (a forced put) or `forget_assumed`."""
        body = self.pipelinejob_bodies.get(key)
        if body is None:
            return
        if key not in self._assumed:
            self._written[key] = body.get("status") or {}
        self._assumed[key] = status
        self._put(key, {**body, "status": status})

    def forget_assumed(self, key: Key) -> None:
        """Our write failed: back to the status the API has."""
        if self._assumed.pop(key, None) is None:
            return
        written = self._written.pop(key, {})
        body = self.pipelinejob_bodies.get(key)
        if body is not None:
            self._put(key, {**body, "status": written})

    def written_status(self, key: Key) -> dict[str, Any]:
        """The status the API has (as far as we know): what a patch is made against."""
        if key in self._written:
            return self._written[key]
        return (self.pipelinejob_bodies.get(key) or {}).get("status") or {}

    def assumed(self, key: Key) -> bool:
        return key in self._assumed

    def drop_pipelinejob(self, key: Key) -> None:
        self._index_cron(key, old=self.pipelinejob_bodies.pop(key, None), new=None)
        self._assumed.pop(key, None)
        self._written.pop(key, None)
        self._count(self.pipelinejobs.pop(key, None), -1)
        self._inactive(key)

    def _inactive(self, key: Key) -> None:
        names = self._active.get(key[0])
        if names is not None:
            names.discard(key[1])
            if not names:
                del self._active[key[0]]  # else every namespace ever seen stays

    def _index_cron(
        self, key: Key, *, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> None:
        before, after = _cron_of(old), _cron_of(new)
        if before == after:
            return
        if before:
            names = self._by_cron[(key[0], before)]
            names.discard(key[1])
            if not names:
                del self._by_cron[(key[0], before)]
        if after:
            self._by_cron[(key[0], after)].add(key[1])

    def children_of_cron(self, key: Key) -> list[dict[str, Any]]:
        """The bodies of the PipelineJobs the PipelineCronJob `key` created."""
        names = self._by_cron.get(key, ())
        return [self.pipelinejob_bodies[(key[0], n)] for n in names]

    def active(self, namespace: str) -> Iterator[model.PipelineJob]:
        for name in list(self._active.get(namespace, ())):
            job = self.pipelinejobs.get((namespace, name))
            if job is not None:
                yield job

    def size(self) -> int:
        """Objects and index entries held (for tests: zero once all are gone)."""
        held: tuple[collections.abc.Sized, ...] = (
            self.pipelinejob_bodies,
            self.pipelinejobs,
            self.worker_bodies,
            self.workers,
            self.jobs,
            self.pods,
            self._pods_by_job,
            self.cronjobs,
            self._active,
            self._assumed,
            self._written,
            self._by_cron,
        )
        return sum(len(h) for h in held)

    def namespaces(self) -> set[str]:
        return {ns for ns, names in self._active.items() if names} | {k[0] for k in self.workers}

    # --- Workers --------------------------------------------------------------

    def put_worker(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.worker_bodies.get(key)):
            return False
        body = _lean(body)
        self.worker_bodies[key] = body
        self.workers[key] = model.parse_worker(body)
        return True

    def drop_worker(self, key: Key) -> None:
        self.worker_bodies.pop(key, None)
        self.workers.pop(key, None)

    def workers_in(self, namespace: str) -> list[model.Worker]:
        return [w for k, w in self.workers.items() if k[0] == namespace]

    # --- PipelineCronJobs -----------------------------------------------------

    def put_cronjob(self, body: dict[str, Any], *, force: bool = False) -> bool:
        key = key_of(body)
        if not force and not _newer(body, self.cronjobs.get(key)):
            return False
        self.cronjobs[key] = _lean(body)
        return True

    def drop_cronjob(self, key: Key) -> None:
        self.cronjobs.pop(key, None)

    # --- Jobs and pods --------------------------------------------------------

    def put_job(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.jobs.get(key)):
            return False
        self.jobs[key] = _lean(body)
        return True

    def drop_job(self, key: Key) -> None:
        self.jobs.pop(key, None)

    def put_pod(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.pods.get(key)):
            return False
        self.pods[key] = _lean(body)
        job_name = ((body.get("metadata") or {}).get("labels") or {}).get(LABEL_JOB_NAME)
        if job_name:
            self._pods_by_job[(key[0], job_name)].add(key[1])
        return True

    def drop_pod(self, key: Key) -> None:
        body = self.pods.pop(key, None)
        if body is None:
            return
        job_name = ((body.get("metadata") or {}).get("labels") or {}).get(LABEL_JOB_NAME)
        if job_name:
            names = self._pods_by_job.get((key[0], job_name))
            if names is not None:
                names.discard(key[1])
                if not names:
                    del self._pods_by_job[(key[0], job_name)]

    def pods_of_job(self, key: Key) -> list[dict[str, Any]]:
        names = self._pods_by_job.get(key, ())
        return [self.pods[(key[0], n)] for n in names if (key[0], n) in self.pods]

    @staticmethod
    def owner_of(body: Mapping[str, Any]) -> Key | None:
        """The PipelineJob a Job or pod belongs to, by its label."""
        md = body.get("metadata") or {}
        name = (md.get("labels") or {}).get(LABEL_PIPELINEJOB)
        return (md.get("namespace") or "", name) if name else None
