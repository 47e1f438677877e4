"""Fluent builders of Conveyor objects, in the manner of Kueue's
`MakeWorkload(name, ns).Queue(q).Obj()`:

    builders.pipelinejob("a").type("build").priority(3).sim(run_time="5s").obj()

Every builder starts from a valid object and each method sets one field. The
same builder gives three forms:

- `.obj()`: the manifest as a user applies it (only what was set, plus valid
  params for its type): for e2e and bench, which create it;
- `.served()`: as the API server returns it (defaults filled in, uid,
  creationTimestamp, and the status set with `.state()` and friends): for
  unit tests that feed API bodies to the code;
- `.model()`: `.served()` parsed by the operator's model, for the pure core.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, names, status
from tests.builders.clock import NAMESPACE, T0, ts

# Pod annotations the local control plane (kwok stages) reads to script a pod.
SIM_RUN_TIME = "sim.conveyor.dev/run-time"
SIM_EXIT_CODE = "sim.conveyor.dev/exit-code"
SIM_MESSAGE = "sim.conveyor.dev/termination-message"

# Params that validate, per job type.
CUSTOM_PARAMS: dict[str, Any] = {"image": "alpine:3.20", "command": ["sh", "-c", "echo hello"]}
DELAY_PARAMS: dict[str, Any] = {"duration": "5s"}
VALID_PARAMS: dict[str, dict[str, Any]] = {
    "custom": CUSTOM_PARAMS,
    "delay": DELAY_PARAMS,
    "build": {"repository": "https://github.com/acme/api.git", "image": "registry.example/api:1"},
    "deploy": {
        "chart": {"name": "api", "repository": "https://charts.example"},
        "release": "api",
        "targetNamespace": "prod",
    },
    "clone-env": {"source": "staging", "target": "qa-17"},
}


def attempt_entry(
    attempt: int,
    *,
    job: str | None = None,
    start: datetime.datetime | None = None,
    finish: datetime.datetime | None = None,
    result: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
    message: str | None = None,
    name: str = "j",
) -> dict[str, Any]:
    """One entry of status.attempts, as the API shows it."""
    return model.Attempt(
        attempt=attempt,
        job=job or names.job_name(pipelinejob=name, attempt=attempt),
        start=ts(start) if start else None,
        finish=ts(finish) if finish else None,
        result=result,
        reason=reason,
        exit_code=exit_code,
        message=message,
    ).to_dict()


class PipelineJob:
    """A PipelineJob; `pipelinejob(name, namespace)` starts one."""

    def __init__(self, name: str, namespace: str | None) -> None:
        self._name = name
        self._namespace = namespace
        self._type = "custom"
        self._spec: dict[str, Any] = {}  # as the user writes it, camelCase
        self._labels: dict[str, str] = {}
        self._annotations: dict[str, str] = {}
        self._pod_annotations: dict[str, str] = {}
        self._created = T0
        self._generation = 1
        self._status: dict[str, Any] = {}
        self._state: str | None = None

    # --- spec ---------------------------------------------------------------------

    def type(self, value: str) -> PipelineJob:
        self._type = value
        return self

    def priority(self, value: int | None) -> PipelineJob:
        return self._put("priority", value)

    def params(self, value: Mapping[str, Any] | None) -> PipelineJob:
        return self._put("params", None if value is None else dict(value))

    def worker(self, value: str | None) -> PipelineJob:
        """spec.worker (`.assigned()` is status.worker)."""
        return self._put("worker", value)

    def retry_limit(self, value: int) -> PipelineJob:
        self._spec.setdefault("retry", {})["limit"] = value
        return self

    def backoff(self, value: Mapping[str, Any] | None) -> PipelineJob:
        if value is not None:
            self._spec.setdefault("retry", {})["backoff"] = dict(value)
        return self

    def timeout(self, value: str | None) -> PipelineJob:
        return self._put("timeout", value)

    def start_at(self, value: datetime.datetime | None) -> PipelineJob:
        return self._put("startAt", None if value is None else ts(value))

    def revoke(self, value: bool = True) -> PipelineJob:
        self._spec["revoke"] = value
        return self

    def ttl(self, value: str | None) -> PipelineJob:
        return self._put("ttlAfterFinished", value)

    def spec(self, value: Mapping[str, Any] | None) -> PipelineJob:
        """Further spec fields, as written in a manifest (camelCase)."""
        self._spec.update(copy.deepcopy(dict(value or {})))
        return self

    def sim(
        self,
        *,
        run_time: str | None = None,
        exit_code: int | None = None,
        message: str | None = None,
    ) -> PipelineJob:
        """Script the simulated pod: how long it runs, its exit code and
        termination message (pod annotations the local control plane reads)."""
        if run_time is not None:
            self._pod_annotations[SIM_RUN_TIME] = run_time
        if exit_code is not None:
            self._pod_annotations[SIM_EXIT_CODE] = str(exit_code)
        if message is not None:
            self._pod_annotations[SIM_MESSAGE] = message
        return self

    def _put(self, key: str, value: Any) -> PipelineJob:
        """Set a spec field; None removes it (as if never written)."""
        if value is None:
            self._spec.pop(key, None)
        else:
            self._spec[key] = value
        return self

    # --- metadata -----------------------------------------------------------------

    def labels(self, value: Mapping[str, str]) -> PipelineJob:
        self._labels.update(value)
        return self

    def annotations(self, value: Mapping[str, str]) -> PipelineJob:
        self._annotations.update(value)
        return self

    def created(self, value: datetime.datetime) -> PipelineJob:
        self._created = value
        return self

    def generation(self, value: int) -> PipelineJob:
        self._generation = value
        return self

    # --- status (what the operator wrote) -----------------------------------------

    def state(self, value: str | None) -> PipelineJob:
        """status.state; without it the operator has never seen the job."""
        self._state = value
        return self

    def reason(self, value: str | None) -> PipelineJob:
        return self._set_status("reason", value)

    def message(self, value: str | None) -> PipelineJob:
        return self._set_status("message", value)

    def attempt(self, value: int) -> PipelineJob:
        return self._set_status("attempt", value)

    def job(self, value: str | None) -> PipelineJob:
        """status.job; by default `<name>-<attempt>` once an attempt exists."""
        return self._set_status("job", value)

    def assigned(self, value: str | None) -> PipelineJob:
        """status.worker: the Worker that admitted it."""
        return self._set_status("worker", value)

    def attempts(self, value: Sequence[Mapping[str, Any] | model.Attempt]) -> PipelineJob:
        entries = [a.to_dict() if isinstance(a, model.Attempt) else dict(a) for a in value]
        return self._set_status("attempts", entries)

    def queued_at(self, value: datetime.datetime | None) -> PipelineJob:
        return self._set_status("queuedAt", None if value is None else ts(value))

    def next_attempt_at(self, value: datetime.datetime | None) -> PipelineJob:
        return self._set_status("nextAttemptAt", None if value is None else ts(value))

    def started_at(self, value: datetime.datetime | None) -> PipelineJob:
        return self._set_status("startedAt", None if value is None else ts(value))

    def finished_at(self, value: datetime.datetime | None) -> PipelineJob:
        return self._set_status("finishedAt", None if value is None else ts(value))

    def outputs(self, value: Mapping[str, Any] | None) -> PipelineJob:
        return self._set_status("outputs", None if value is None else dict(value))

    def _set_status(self, key: str, value: Any) -> PipelineJob:
        """Set a status field; None removes it (the API drops empty fields)."""
        if value is None:
            self._status.pop(key, None)
        else:
            self._status[key] = value
        return self

    # --- the forms ----------------------------------------------------------------

    def obj(self) -> dict[str, Any]:
        """The manifest as a user applies it."""
        metadata: dict[str, Any] = {"name": self._name}
        if self._namespace is not None:
            metadata["namespace"] = self._namespace
        if self._annotations:
            metadata["annotations"] = dict(self._annotations)
        if self._labels:
            metadata["labels"] = dict(self._labels)
        spec: dict[str, Any] = {"type": self._type, **copy.deepcopy(self._spec)}
        spec.setdefault("params", copy.deepcopy(VALID_PARAMS.get(self._type, {})))
        if self._pod_annotations:
            pod_metadata = spec.setdefault("podTemplate", {}).setdefault("metadata", {})
            pod_metadata["annotations"] = dict(self._pod_annotations)
        return {
            "apiVersion": names.GROUP_VERSION,
            "kind": "PipelineJob",
            "metadata": metadata,
            "spec": spec,
        }

    def served(self) -> dict[str, Any]:
        """As the API server returns it: the CRD's defaults filled in, and the
        status when a state was set."""
        body = self.obj()
        spec = body["spec"]
        spec.setdefault("priority", 0)
        retry = spec.setdefault("retry", {})
        retry.setdefault("limit", 0)
        retry.setdefault("backoff", {})
        spec.setdefault("revoke", False)
        body["metadata"].update(
            {
                "namespace": self._namespace or NAMESPACE,
                "uid": f"uid-{self._name}",
                "resourceVersion": "1",
                "generation": self._generation,
                "creationTimestamp": ts(self._created),
            }
        )
        if self._state is not None:
            body["status"] = self._served_status()
        return body

    def _served_status(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"state": self._state, "attempt": 0, **self._status}
        attempt = fields["attempt"]
        if "job" not in fields and attempt > 0:
            fields["job"] = names.job_name(pipelinejob=self._name, attempt=attempt)
        fields.setdefault("queuedAt", ts(self._created))
        fields.setdefault("attempts", [])
        fields.setdefault("outputs", {})
        fields["observedGeneration"] = self._generation
        return fields

    def model(self) -> model.PipelineJob:
        """The operator's parsed PipelineJob (parsing is exercised too)."""
        return model.parse_pipelinejob(self.served())


class Worker:
    """A Worker; `worker(name, namespace)` starts one."""

    def __init__(self, name: str, namespace: str | None) -> None:
        self._name = name
        self._namespace = namespace
        self._spec: dict[str, Any] = {"type": "build", "concurrency": 2}
        self._whole_spec: dict[str, Any] | None = None
        self._deleting = False
        self._generation = 1
        self._status: dict[str, Any] | None = None

    def type(self, value: str) -> Worker:
        self._spec["type"] = value
        return self

    def concurrency(self, value: int) -> Worker:
        self._spec["concurrency"] = value
        return self

    def paused(self, value: bool = True) -> Worker:
        self._spec["paused"] = value
        return self

    def template(self, value: Mapping[str, Any]) -> Worker:
        """spec.template: the pod template fragment."""
        self._spec["template"] = copy.deepcopy(dict(value))
        return self

    def job_template(self, value: str) -> Worker:
        self._spec["jobTemplate"] = value
        return self

    def spec(self, value: Mapping[str, Any]) -> Worker:
        """Further spec fields, as written in a manifest (camelCase)."""
        self._spec.update(copy.deepcopy(dict(value)))
        return self

    def whole_spec(self, value: Mapping[str, Any] | None) -> Worker:
        """Replace the whole spec (e.g. with one that does not validate)."""
        if value is not None:
            self._whole_spec = copy.deepcopy(dict(value))
        return self

    def deleting(self, value: bool = True) -> Worker:
        self._deleting = value
        return self

    def generation(self, value: int) -> Worker:
        self._generation = value
        return self

    def status(self, value: Mapping[str, Any] | None) -> Worker:
        if value is not None:
            self._status = dict(value)
        return self

    def obj(self) -> dict[str, Any]:
        """The manifest as a user applies it."""
        metadata: dict[str, Any] = {"name": self._name}
        if self._namespace is not None:
            metadata["namespace"] = self._namespace
        spec = self._whole_spec if self._whole_spec is not None else self._spec
        return {
            "apiVersion": names.GROUP_VERSION,
            "kind": "Worker",
            "metadata": metadata,
            "spec": copy.deepcopy(spec),
        }

    def served(self) -> dict[str, Any]:
        """As the API server returns it."""
        body = self.obj()
        if self._whole_spec is None:
            body["spec"].setdefault("paused", False)
        metadata = body["metadata"]
        metadata.update(
            {
                "namespace": self._namespace or NAMESPACE,
                "uid": f"uid-worker-{self._name}",
                "resourceVersion": "1",
                "generation": self._generation,
                "creationTimestamp": ts(T0),
            }
        )
        if self._deleting:
            metadata["deletionTimestamp"] = ts(T0)
        if self._status is not None:
            body["status"] = dict(self._status)
        return body

    def model(self) -> model.Worker:
        return model.parse_worker(self.served())


def pipelinejob(name: str = "j", namespace: str | None = None) -> PipelineJob:
    return PipelineJob(name, namespace)


def worker(name: str = "build", namespace: str | None = None) -> Worker:
    return Worker(name, namespace)


def persisted(new: model.JobStatus, *, generation: int = 1) -> dict[str, Any]:
    """The status as written to the API (without conditions, which depend on history)."""
    written = status.to_dict(status=new, generation=generation, previous_conditions=(), now=T0)
    written.pop("conditions")
    return written


def with_status(job: model.PipelineJob, new: model.JobStatus) -> model.PipelineJob:
    """`job` as the API shows it after the operator wrote `new`: the status goes
    through its API form and back, as it does across an operator restart."""
    written = persisted(new, generation=job.meta.generation)
    return dataclasses.replace(job, status=model.JobStatus.from_dict(written))
