"""The objects Conveyor reasons about, parsed from API bodies.

Pure: no I/O. Parsing never raises on a user's object: a spec the operator
cannot accept becomes `spec_error` (which ends the job FAILED/InvalidSpec).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from pydantic import alias_generators

from conveyor.core import bounds, durations, fields, pydantic_errors


class JobType(enum.StrEnum):
    BUILD = "build"
    CUSTOM = "custom"
    DEPLOY = "deploy"
    PROMOTE = "promote"
    TICKET = "ticket"
    CANARY_ANALYSIS = "canary-analysis"
    CLONE_ENV = "clone-env"
    ANDROID_BUILD = "android-build"
    ANDROID_DEPLOY = "android-deploy"
    DELAY = "delay"


class WorkerType(enum.StrEnum):
    BUILD = "build"
    DEPLOY = "deploy"
    CANARY = "canary"
    CLONE_ENV = "clone-env"
    ANDROID_BUILD = "android-build"
    ANDROID_DEPLOY = "android-deploy"


# Which worker type executes a job type; None: the operator does it itself.
WORKER_TYPE_OF: Mapping[JobType, WorkerType | None] = {
    JobType.BUILD: WorkerType.BUILD,
    JobType.CUSTOM: WorkerType.BUILD,
    JobType.DEPLOY: WorkerType.DEPLOY,
    JobType.PROMOTE: WorkerType.DEPLOY,
    JobType.TICKET: WorkerType.DEPLOY,
    JobType.CANARY_ANALYSIS: WorkerType.CANARY,
    JobType.CLONE_ENV: WorkerType.CLONE_ENV,
    JobType.ANDROID_BUILD: WorkerType.ANDROID_BUILD,
    JobType.ANDROID_DEPLOY: WorkerType.ANDROID_DEPLOY,
    JobType.DELAY: None,
}


class State(enum.StrEnum):
    IN_QUEUE = "IN-QUEUE"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVOKED = "REVOKED"

    @property
    def finished(self) -> bool:
        return self in (State.SUCCESS, State.FAILED, State.REVOKED)


class Reason(enum.StrEnum):
    # IN-QUEUE
    QUEUED = "Queued"
    NO_WORKER = "NoWorker"
    WORKER_PAUSED = "WorkerPaused"
    WORKER_OFFLINE = "WorkerOffline"
    CONCURRENCY_LIMIT = "ConcurrencyLimit"
    DELAYED = "Delayed"
    RETRY_BACKOFF = "RetryBackoff"
    STARTING = "Starting"
    # RUNNING
    RUNNING = "Running"
    # SUCCESS
    SUCCEEDED = "Succeeded"
    # FAILED
    POD_FAILED = "PodFailed"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    INVALID_SPEC = "InvalidSpec"
    JOB_LOST = "JobLost"
    # REVOKED
    REVOKED = "Revoked"


class WorkerState(enum.StrEnum):
    ONLINE = "ONLINE"
    DEGRADED = "DEGRADED"
    OFFLINE = "OFFLINE"
    PAUSED = "PAUSED"


def _duration(value: Any) -> datetime.timedelta:
    if isinstance(value, datetime.timedelta):
        return value
    return durations.parse(value)


Duration = Annotated[datetime.timedelta, pydantic.BeforeValidator(_duration)]


class _Spec(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(
        alias_generator=alias_generators.to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class Backoff(_Spec):
    delay: Duration = datetime.timedelta(seconds=5)
    factor: float = pydantic.Field(default=2.0, ge=1.0)
    max_delay: Duration = datetime.timedelta(minutes=5)


class Retry(_Spec):
    limit: int = pydantic.Field(default=0, ge=0)
    backoff: Backoff = Backoff()


class PipelineJobSpec(_Spec):
    type: JobType
    worker: str | None = None
    priority: int = 0
    params: dict[str, Any] = pydantic.Field(default_factory=dict)
    pod_template: dict[str, Any] = pydantic.Field(default_factory=dict)
    retry: Retry = Retry()
    timeout: Duration | None = None
    start_at: datetime.datetime | None = None
    revoke: bool = False
    ttl_after_finished: Duration | None = None

    @pydantic.field_validator("start_at")
    @classmethod
    def _aware(cls, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-01-02T15:04:05Z")
        return None if value is None else bounds.in_time(value)


class WorkerSpec(_Spec):
    type: WorkerType
    concurrency: int = pydantic.Field(default=1, ge=0)
    paused: bool = False
    # Pod template fragment merged into every Job's pod (image, resources, env, ...).
    template: dict[str, Any] = pydantic.Field(default_factory=dict)
    # Optional Jinja2 text replacing the worker type's default Job template.
    job_template: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpecError:
    """Why the operator cannot accept a spec: the field path and a sentence,
    both cut to fit a status (a message may echo a 1 MiB value back)."""

    field: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", bounds.fit(self.field, limit=bounds.MAX_FIELD))
        limit = bounds.MAX_MESSAGE // 8  # one sentence, with room for what wraps it
        object.__setattr__(self, "message", bounds.fit(self.message, limit=limit))

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def spec_error_from(exc: pydantic.ValidationError, *, prefix: str) -> SpecError:
    """The first validation error, with the field path as users write it."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in (prefix, *first["loc"]))
    return SpecError(field=path, message=pydantic_errors.message(first))


def too_deep(spec: Mapping[str, Any], *, prefix: str, deep: tuple[str, ...]) -> SpecError | None:
    """Why a spec cannot even be looked at: nested too deep (bounds.spec_too_deep)."""
    found = bounds.spec_too_deep(spec, prefix=prefix, deep=deep)
    return None if found is None else SpecError(field=found[0], message=found[1])


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    """One entry of status.attempts."""

    attempt: int
    job: str
    start: str | None = None
    finish: str | None = None
    result: str | None = None  # SUCCESS | FAILED | REVOKED
    reason: str | None = None
    exit_code: int | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {_CAMEL.get(f.name, f.name): getattr(self, f.name) for f in dataclasses.fields(self)}
        out["job"] = self.job or None  # a delay job's attempt has no Job
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attempt:
        exit_code = data.get("exitCode")
        texts = {
            k: fields.text(data.get(k)) for k in ("start", "finish", "result", "reason", "message")
        }
        return cls(
            attempt=fields.count(data.get("attempt")),
            job=fields.text(data.get("job")) or "",
            exit_code=int(exit_code) if isinstance(exit_code, int) else None,
            **texts,
        )


_CAMEL = {"exit_code": "exitCode"}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class JobStatus:
    """status of a PipelineJob, as the core reads and writes it."""

    state: State | None = None
    reason: str | None = None
    message: str | None = None
    worker: str | None = None
    attempt: int = 0
    job: str | None = None
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    next_attempt_at: str | None = None
    attempts: tuple[Attempt, ...] = ()
    outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    observed_generation: int = 0
    worker_generation: int | None = None  # the Worker's generation at admission

    @property
    def holds_slot(self) -> bool:
        """Admitted and not finished: counts against the Worker's concurrency."""
        return self.state is State.RUNNING or (
            self.state is State.IN_QUEUE and self.reason == Reason.STARTING
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> JobStatus:
        """Never raises: a field of the wrong type (only someone with rights on
        the status subresource can write one) reads as unset."""
        data = fields.mapping(data)
        state = fields.text(data.get("state"))
        try:
            parsed_state = State(state) if state else None
        except ValueError:
            parsed_state = None
        return cls(
            state=parsed_state,
            reason=fields.text(data.get("reason")),
            message=fields.text(data.get("message")),
            worker=fields.text(data.get("worker")),
            attempt=fields.count(data.get("attempt")),
            job=fields.text(data.get("job")),
            queued_at=fields.text(data.get("queuedAt")),
            started_at=fields.text(data.get("startedAt")),
            finished_at=fields.text(data.get("finishedAt")),
            next_attempt_at=fields.text(data.get("nextAttemptAt")),
            attempts=tuple(Attempt.from_dict(a) for a in fields.mappings(data.get("attempts"))),
            outputs=dict(fields.mapping(data.get("outputs"))),
            observed_generation=fields.count(data.get("observedGeneration")),
            worker_generation=fields.int_or_none(data.get("workerGeneration")),
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Meta:
    namespace: str
    name: str
    uid: str
    resource_version: str
    generation: int
    created_at: datetime.datetime
    deleting: bool = False
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Meta:
        md = fields.mapping(body.get("metadata"))
        return cls(
            namespace=fields.text(md.get("namespace")) or "",
            name=fields.text(md.get("name")) or "",
            uid=fields.text(md.get("uid")) or "",
            resource_version=fields.text(md.get("resourceVersion")) or "",
            generation=fields.count(md.get("generation")),
            created_at=parse_time(fields.text(md.get("creationTimestamp"))) or EPOCH,
            deleting=bool(md.get("deletionTimestamp")),
            labels=fields.strings(md.get("labels")),
        )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PipelineJob:
    meta: Meta
    spec: PipelineJobSpec | None
    spec_error: SpecError | None
    status: JobStatus
    raw_type: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.meta.key


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Worker:
    meta: Meta
    spec: WorkerSpec | None
    spec_error: SpecError | None
    state: str | None = None
    last_heartbeat: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.meta.key


# The free-form fields of a PipelineJob spec, checked for depth by name.
PIPELINEJOB_DEEP = ("params", "podTemplate")


def _validate_spec(
    cls: type[_Spec], body: Mapping[str, Any], *, deep: tuple[str, ...]
) -> tuple[Any, SpecError | None]:
    """(spec, None) or (None, why): never raises on a user's object, whatever it holds."""
    raw = body.get("spec")
    if raw is not None and not isinstance(raw, Mapping):
        return None, SpecError(field="spec", message="must be an object")
    error = None if raw is None else too_deep(raw, prefix="spec", deep=deep)
    if error is not None:
        return None, error
    try:
        return cls.model_validate(body.get("spec") or {}), None
    except pydantic.ValidationError as exc:
        return None, spec_error_from(exc, prefix="spec")
    except (RecursionError, OverflowError, ValueError, TypeError) as exc:
        # A case the checks above missed: still this object's fault alone.
        return None, SpecError(field="spec", message=f"cannot be read: {type(exc).__name__}")


def parse_pipelinejob(body: Mapping[str, Any]) -> PipelineJob:
    spec, error = _validate_spec(PipelineJobSpec, body, deep=PIPELINEJOB_DEEP)
    raw_spec = body.get("spec")
    raw_type = raw_spec.get("type") if isinstance(raw_spec, Mapping) else None
    return PipelineJob(
        meta=Meta.from_body(body),
        spec=spec,
        spec_error=error,
        status=JobStatus.from_dict(body.get("status")),
        raw_type=raw_type if isinstance(raw_type, str) and len(raw_type) <= 64 else "",
    )


def parse_worker(body: Mapping[str, Any]) -> Worker:
    spec, error = _validate_spec(WorkerSpec, body, deep=("template",))
    status = fields.mapping(body.get("status"))
    return Worker(
        meta=Meta.from_body(body),
        spec=spec,
        spec_error=error,
        state=fields.text(status.get("state")),
        last_heartbeat=fields.text(status.get("lastHeartbeat")),
    )


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def format_time(value: datetime.datetime) -> str:
    """RFC 3339 in UTC with a Z, second precision: what Kubernetes writes."""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
