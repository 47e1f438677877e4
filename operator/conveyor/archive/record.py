"""What the archive keeps of a finished PipelineJob or PipelineRun. Pure.

A summary, not the object: the spec's shape (type, worker, params, retry,
timeout), the status (state, reason, attempts, outputs, times) and labels.
Never annotations (kubectl's last-applied copy holds the whole spec), never
podTemplate env values, never the value of a param whose name says it is a
secret (params name Secrets by reference; a literal is a mistake we do not copy).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from conveyor.core import model

PIPELINEJOB = "PipelineJob"
PIPELINERUN = "PipelineRun"
KINDS = (PIPELINEJOB, PIPELINERUN)
FINISHED = frozenset({"SUCCESS", "FAILED", "REVOKED"})
REDACTED = "<redacted>"

RUN_LABEL = "conveyor.dev/pipelinerun"
STEP_LABEL = "conveyor.dev/step"

_SECRET_NAME = re.compile(r"(password|passwd|secret|token|apikey|api_key|credential)", re.I)
# ...but these name a Secret (a reference), which is fine to keep.
_REFERENCE = re.compile(r"(Secret|SecretRef|SecretName|secretName|Ref|Name)$")
_JOB_SPEC = ("type", "worker", "priority", "retry", "timeout", "startAt", "ttlAfterFinished")
_RUN_SPEC = ("pipelineRef", "priority", "parallelism", "timeout", "resumeFrom")
_JOB_STATUS = (
    *("state", "reason", "message", "worker", "attempt", "job", "queuedAt"),
    *("startedAt", "finishedAt", "attempts", "outputs"),
)
_RUN_STATUS = ("state", "reason", "message", "steps", "startedAt", "finishedAt")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Record:
    uid: str
    kind: str  # PipelineJob | PipelineRun
    namespace: str
    name: str
    type: str  # the job type; "" for a run
    worker: str
    state: str
    reason: str
    message: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime
    duration: float | None  # seconds from start (else creation) to finish
    attempts: int
    pipelinerun: str  # the run a step's job belongs to; "" otherwise
    labels: Mapping[str, str]
    summary: Mapping[str, Any]  # {"spec": ..., "status": ...}, redacted


def as_object(r: Record) -> dict[str, Any]:
    """A record shaped as the object it was (for -o json and the dashboard's views)."""
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": r.kind,
        "metadata": {
            "name": r.name,
            "namespace": r.namespace,
            "uid": r.uid,
            "labels": dict(r.labels),
            "creationTimestamp": model.format_time(r.created_at),
        },
        "spec": dict(r.summary.get("spec") or {}),
        "status": dict(r.summary.get("status") or {}),
    }


def finished(body: Mapping[str, Any]) -> bool:
    return str((body.get("status") or {}).get("state") or "") in FINISHED


def from_body(*, kind: str, body: Mapping[str, Any]) -> Record | None:
    """The record of a finished object; None while it runs (or when it is no object)."""
    meta = body.get("metadata") or {}
    status = body.get("status") or {}
    spec = body.get("spec") or {}
    uid = str(meta.get("uid") or "")
    if kind not in KINDS or not uid or not finished(body):
        return None
    created = model.parse_time(meta.get("creationTimestamp"))
    if created is None:
        return None
    started = model.parse_time(status.get("startedAt"))
    # A job revoked before it was admitted has no finish time: its last write stands in.
    ended = model.parse_time(status.get("finishedAt")) or started or created
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    attempts = status.get("attempts") or []
    return Record(
        uid=uid,
        kind=kind,
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        type=str(spec.get("type") or "") if kind == PIPELINEJOB else "",
        worker=str(status.get("worker") or spec.get("worker") or ""),
        state=str(status["state"]),
        reason=str(status.get("reason") or ""),
        message=str(status.get("message") or ""),
        created_at=created,
        started_at=started,
        finished_at=ended,
        duration=(ended - (started or created)).total_seconds(),
        attempts=len(attempts) if isinstance(attempts, list) else int(status.get("attempt") or 0),
        pipelinerun=labels.get(RUN_LABEL, ""),
        labels=labels,
        summary=summary(kind=kind, spec=spec, status=status),
    )


def summary(*, kind: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    keys, status_keys = (
        (_JOB_SPEC, _JOB_STATUS) if kind == PIPELINEJOB else (_RUN_SPEC, _RUN_STATUS)
    )
    kept: dict[str, Any] = {k: spec[k] for k in keys if k in spec}
    if isinstance(spec.get("params"), Mapping):
        kept["params"] = redact(without_env_values(spec["params"]))
    if isinstance(spec.get("podTemplate"), Mapping):
        kept["podTemplate"] = without_env_values(spec["podTemplate"])
    if kind == PIPELINERUN:
        kept["steps"] = [_step(s) for s in spec.get("steps") or [] if isinstance(s, Mapping)]
        kept["finally"] = [_step(s) for s in spec.get("finally") or [] if isinstance(s, Mapping)]
    return {"spec": kept, "status": {k: status[k] for k in status_keys if k in status}}


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    job = step.get("job") or {}
    return {
        "name": step.get("name"),
        "type": job.get("type") if isinstance(job, Mapping) else None,
        "dependsOn": step.get("dependsOn") or [],
    }


def redact(value: Any, *, key: str = "") -> Any:
    """`value` with the literal value of every secret-named key replaced."""
    if isinstance(value, Mapping):
        return {str(k): redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key) for v in value]
    secret = _SECRET_NAME.search(key) and not _REFERENCE.search(key)
    if secret and isinstance(value, str | int | float) and value != "":
        return REDACTED
    return value


def without_env_values(value: Any) -> Any:
    """A pod template fragment (or custom params) whose env entries keep their names only."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "env" and isinstance(v, list):
                out[k] = [{"name": e.get("name")} for e in v if isinstance(e, Mapping)]
            else:
                out[str(k)] = without_env_values(v)
        return out
    if isinstance(value, list):
        return [without_env_values(v) for v in value]
    return value
