"""The operator's in-memory view of the cluster, fed by watch events and by
the responses to its own writes.

Nothing here is the source of truth: it is rebuilt from the API at every
start. Writes recorded here before they reach the API ("assume, then write")
keep concurrency accounting right between a decision and its watch event.
"""

from __future__ import annotations

import collections
import collections.abc
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from conveyor import metrics
from conveyor.core import cron, model, names
from conveyor.core.pipeline import naming
from conveyor.k8s import slim

Key = tuple[str, str]

# Labels on every Job and pod Conveyor creates.
# Defined in core/names.py (one source).
LABEL_PIPELINEJOB = names.LABEL_PIPELINEJOB
LABEL_ATTEMPT = names.LABEL_ATTEMPT
LABEL_WORKER = names.LABEL_WORKER
LABEL_JOB_NAME = names.LABEL_JOB_NAME


def key_of(body: Mapping[str, Any]) -> Key:
    md = body.get("metadata")
    md = md if isinstance(md, Mapping) else {}
    namespace, name = md.get("namespace"), md.get("name")
    return (
        sys.intern(namespace) if isinstance(namespace, str) else "",
        name if isinstance(name, str) else "",
    )


# The body in the shapes the shell relies on, managedFields dropped (slim.py).
lean = slim.lean


def labels_of(body: Mapping[str, Any] | None) -> Mapping[str, str] | None:
    return None if body is None else ((body.get("metadata") or {}).get("labels") or {})


class _ByLabel:
    """Object names per (namespace, value of one label): a PipelineCronJob's
    runs, a PipelineRun's children. Empty entries are dropped."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.names: dict[Key, set[str]] = collections.defaultdict(set)

    def update(
        self, key: Key, *, old: Mapping[str, str] | None, new: Mapping[str, str] | None
    ) -> None:
        """`old`, `new`: the object's labels before and after (None: absent)."""
        before, after = (old or {}).get(self.label) or None, (new or {}).get(self.label) or None
        if before == after:
            return
        if before:
            names = self.names[(key[0], before)]
            names.discard(key[1])
            if not names:
                del self.names[(key[0], before)]
        if after:
            self.names[(key[0], after)].add(key[1])

    def of(self, key: Key) -> set[str]:
        return self.names.get(key) or set()


def _newer(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """Whether `new` is a later version of the object than `old`."""
    return _newer_than(new, None if old is None else _rv(old))


def _rv(body: Mapping[str, Any]) -> str:
    return str((body.get("metadata") or {}).get("resourceVersion") or "")


def _newer_than(new: Mapping[str, Any], old_rv: str | None) -> bool:
    """Whether `new` is later than the version `old_rv` (None: none held).

    resourceVersions are opaque by contract but integers in etcd-backed
    servers; compare them as such when possible so a late watch event never
    overwrites a fresher response to our own write.
    """
    if old_rv is None:
        return True
    new_rv = _rv(new)
    if new_rv.isdigit() and old_rv.isdigit():
        return int(new_rv) > int(old_rv)
    return bool(new_rv != old_rv)


class Store:
    def __init__(self) -> None:
        # Each PipelineJob as the core reads it, and its slim body for the
        # shell's few raw reads (decoded on each read: slim.py says why).
        self.pipelinejobs: dict[Key, model.PipelineJob] = {}
        self._kept: dict[Key, slim.Kept] = {}
        self.pipelinejob_bodies = slim.Encoded(self._kept, read=slim.Kept.body)
        self.worker_bodies: dict[Key, dict[str, Any]] = {}
        self.workers: dict[Key, model.Worker] = {}
        self.jobs: dict[Key, dict[str, Any]] = {}
        # Why the Job controller cannot create a Job's pod (its FailedCreate Event).
        self.failed_create: dict[Key, str] = {}
        self.pods: dict[Key, dict[str, Any]] = {}
        self._pods_by_job: dict[Key, set[str]] = collections.defaultdict(set)
        self.cronjobs: dict[Key, dict[str, Any]] = {}
        # Jobs not finished, per namespace: what scheduling passes look at.
        self._active: dict[str, set[str]] = collections.defaultdict(set)
        # Statuses decided but not yet confirmed by the API, and the API's.
        self._assumed: dict[Key, dict[str, Any]] = {}
        self._written: dict[Key, dict[str, Any]] = {}
        # PipelineJobs and PipelineRuns per PipelineCronJob that created them,
        # PipelineJobs per PipelineRun (by label).
        self._by_cron = _ByLabel(cron.CRONJOB_LABEL)
        self._runs_by_cron = _ByLabel(cron.CRONJOB_LABEL)
        self._by_run = _ByLabel(naming.RUN_LABEL)
        self.pipelineruns: dict[Key, dict[str, Any]] = {}
        self.pipelines: dict[Key, dict[str, Any]] = {}  # Pipeline definitions

    # --- PipelineJobs ---------------------------------------------------------

    def put_pipelinejob(self, body: dict[str, Any], *, force: bool = False) -> bool:
        """Record a version of a PipelineJob; `force` for the API's answer to
        our own write or read, which also ends an assumption."""
        key = key_of(body)
        old = self.pipelinejobs.get(key)
        if not force and not _newer_than(body, None if old is None else old.meta.resource_version):
            return False
        body = slim.pipelinejob(lean(body))
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
        old = self.pipelinejobs.get(key)
        kept = slim.Kept(
            spec=slim.encode(body.get("spec")),
            rest=slim.encode({k: v for k, v in body.items() if k != "spec"}),
        )
        previous = self._kept.get(key)
        if old is not None and previous is not None and previous.spec == kept.spec:
            # The same spec: only metadata or status changed (the spec's
            # validation is most of a parse).
            job = dataclasses.replace(
                old,
                meta=model.Meta.from_body(body),
                status=model.JobStatus.from_dict(body.get("status")),
            )
        else:
            job = model.parse_pipelinejob(body)
        self._by_cron.update(key, old=None if old is None else old.meta.labels, new=job.meta.labels)
        self._by_run.update(key, old=None if old is None else old.meta.labels, new=job.meta.labels)
        self._count(old, -1)
        self._count(job, +1)
        self._kept[key] = kept
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
        kept = self._kept.get(key)
        if kept is None:
            return
        body = kept.body()
        if key not in self._assumed:
            self._written[key] = body.get("status") or {}
        self._assumed[key] = status
        self._put(key, {**body, "status": status})

    def forget_assumed(self, key: Key) -> None:
        """Our write failed: back to the status the API has."""
        if self._assumed.pop(key, None) is None:
            return
        written = self._written.pop(key, {})
        kept = self._kept.get(key)
        if kept is not None:
            self._put(key, {**kept.body(), "status": written})

    def written_status(self, key: Key) -> dict[str, Any]:
        """The status the API has (as far as we know): what a patch is made against."""
        if key in self._written:
            return self._written[key]
        kept = self._kept.get(key)
        status: dict[str, Any] = slim.decode(kept.rest).get("status") or {} if kept else {}
        return status

    def assumed(self, key: Key) -> bool:
        return key in self._assumed

    def drop_pipelinejob(self, key: Key) -> None:
        old = self.pipelinejobs.pop(key, None)
        self._kept.pop(key, None)
        labels = None if old is None else old.meta.labels
        self._by_cron.update(key, old=labels, new=None)
        self._by_run.update(key, old=labels, new=None)
        self._assumed.pop(key, None)
        self._written.pop(key, None)
        self._count(old, -1)
        self._inactive(key)

    def _inactive(self, key: Key) -> None:
        names = self._active.get(key[0])
        if names is not None:
            names.discard(key[1])
            if not names:
                del self._active[key[0]]  # else every namespace ever seen stays

    def children_of_cron(self, key: Key) -> list[dict[str, Any]]:
        """The bodies of the PipelineJobs and PipelineRuns the PipelineCronJob `key` created."""
        jobs = [self.pipelinejob_bodies[(key[0], n)] for n in self._by_cron.of(key)]
        return jobs + [self.pipelineruns[(key[0], n)] for n in self._runs_by_cron.of(key)]

    def children_of_run(self, key: Key) -> list[dict[str, Any]]:
        """The bodies of the PipelineJobs labelled as the PipelineRun `key`'s children."""
        return [self.pipelinejob_bodies[(key[0], n)] for n in self._by_run.of(key)]

    def active(self, namespace: str) -> Iterator[model.PipelineJob]:
        for name in list(self._active.get(namespace, ())):
            job = self.pipelinejobs.get((namespace, name))
            if job is not None:
                yield job

    def size(self) -> int:
        """Objects and index entries held (for tests: zero once all are gone)."""
        held: tuple[collections.abc.Sized, ...] = (
            self._kept,
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
            self._by_cron.names,
            self._runs_by_cron.names,
            self._by_run.names,
            self.pipelineruns,
            self.pipelines,
        )
        return sum(len(h) for h in held)

    def namespaces(self) -> set[str]:
        return {ns for ns, names in self._active.items() if names} | {k[0] for k in self.workers}

    # --- Workers --------------------------------------------------------------

    def put_worker(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.worker_bodies.get(key)):
            return False
        body = lean(body)
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
        self.cronjobs[key] = lean(body)
        return True

    def drop_cronjob(self, key: Key) -> None:
        self.cronjobs.pop(key, None)

    # --- PipelineRuns and Pipelines ------------------------------------------

    def put_pipelinerun(self, body: dict[str, Any], *, force: bool = False) -> bool:
        """Record a version of a PipelineRun; `force` for the API's answer to our write."""
        key = key_of(body)
        old = self.pipelineruns.get(key)
        if not force and not _newer(body, old):
            return False
        body = lean(body)
        self._runs_by_cron.update(key, old=labels_of(old), new=labels_of(body))
        _count_run(old, -1)
        _count_run(body, +1)
        self.pipelineruns[key] = body
        return True

    def drop_pipelinerun(self, key: Key) -> None:
        old = self.pipelineruns.pop(key, None)
        self._runs_by_cron.update(key, old=labels_of(old), new=None)
        _count_run(old, -1)

    def put_pipeline(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.pipelines.get(key)):
            return False
        self.pipelines[key] = lean(body)
        return True

    def drop_pipeline(self, key: Key) -> None:
        self.pipelines.pop(key, None)

    def runs_in(self, namespace: str) -> list[Key]:
        return [k for k in self.pipelineruns if k[0] == namespace]

    # --- Jobs and pods --------------------------------------------------------

    def put_job(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.jobs.get(key)):
            return False
        self.jobs[key] = slim.owned(lean(body))
        return True

    def drop_job(self, key: Key) -> None:
        self.jobs.pop(key, None)
        self.failed_create.pop(key, None)

    def put_pod(self, body: dict[str, Any]) -> bool:
        key = key_of(body)
        if not _newer(body, self.pods.get(key)):
            return False
        self.pods[key] = slim.owned(lean(body))
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


def _count_run(body: Mapping[str, Any] | None, delta: int) -> None:
    if body is not None:
        namespace = (body.get("metadata") or {}).get("namespace") or ""
        state = (body.get("status") or {}).get("state") or ""
        metrics.RUNS_BY_STATE.labels(namespace, str(state)).inc(delta)
