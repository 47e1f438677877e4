"""The job page: status, the plain-language explanation (the text of
`conveyor why`: the same diagnosis, shown as HTML), the attempts as a timeline,
Events, outputs and which pod's logs to stream."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.core import model, progress
from conveyor.presentation import diagnosis, humanize

LABEL_JOB_NAME = "batch.kubernetes.io/job-name"
# Param names whose plain values are not shown: credentials belong in Secrets,
# referenced by name, and a reference (a mapping) is shown as it is.
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|credential|api[-_]?key", re.IGNORECASE)
HIDDEN = "(hidden)"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bar:
    """One attempt on the timeline; x and width in percent of the whole span."""

    number: int
    job: str
    result: str
    reason: str
    message: str
    exit_code: int | None
    took: str
    x: float
    width: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class Detail:
    namespace: str
    name: str
    state: str
    reason: str
    message: str
    type: str
    worker: str
    labels: Mapping[str, str]
    diagnosis: diagnosis.Diagnosis
    attempts: tuple[Bar, ...]
    outputs: tuple[tuple[str, str], ...]
    params: str
    progress: str
    fraction: float | None
    pod: str | None  # the current attempt's latest pod: its logs are streamed
    run: str | None  # the PipelineRun it is a step of


def redact(value: Any, *, key: str = "") -> Any:
    """Params with the plain values of secret-looking keys hidden."""
    if isinstance(value, Mapping):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key) for v in value]
    if isinstance(value, str) and _SECRET_NAME.search(key):
        return HIDDEN
    return value


def timeline(*, attempts: Sequence[model.Attempt], now: datetime.datetime) -> tuple[Bar, ...]:
    spans: list[tuple[model.Attempt, datetime.datetime | None, datetime.datetime | None]] = []
    for a in attempts:
        begun = model.parse_time(a.start)
        ended = model.parse_time(a.finish) or now
        spans.append((a, begun, ended if begun is not None else None))
    times = [t for _, s, f in spans for t in (s, f) if t is not None]
    if not times:
        first, width = now, 1.0
    else:
        first = min(times)
        width = max((max(times) - first).total_seconds(), 1.0)
    bars = []
    for a, start, finish in spans:
        x = ((start - first).total_seconds() / width * 100) if start else 0.0
        w = ((finish - start).total_seconds() / width * 100) if start and finish else 0.0
        bars.append(
            Bar(
                number=a.attempt,
                job=a.job,
                result=a.result or ("RUNNING" if a.finish is None and start else "-"),
                reason=a.reason or "",
                message=a.message or "",
                exit_code=a.exit_code,
                took=humanize.between(start, model.parse_time(a.finish), now=now),
                x=round(x, 2),
                width=round(max(w, 0.5), 2),
            )
        )
    return tuple(bars)


def latest_pod(*, pods: Sequence[Mapping[str, Any]], job: str | None) -> str | None:
    if not job:
        return None
    mine = [
        p
        for p in pods
        if ((p.get("metadata") or {}).get("labels") or {}).get(LABEL_JOB_NAME) == job
    ]
    if not mine:
        return None
    newest = max(mine, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
    return str((newest.get("metadata") or {}).get("name"))


def detail(
    *,
    body: Mapping[str, Any],
    jobs: Sequence[Mapping[str, Any]],
    workers: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    typical: progress.Typical,
    now: datetime.datetime,
) -> Detail:
    """`jobs`, `workers`, `pods` and `events` are those of the job's namespace."""
    job = model.parse_pipelinejob(body)
    st = job.status
    current = [
        p
        for p in pods
        if ((p.get("metadata") or {}).get("labels") or {}).get(LABEL_JOB_NAME) == st.job
    ]
    found = diagnosis.diagnose(
        job=body, jobs=jobs, workers=workers, pods=current, events=events, now=now
    )
    guess = progress.estimate(job=job, typical=typical, now=now)
    outputs = tuple(
        (str(k), json.dumps(v) if not isinstance(v, str) else v) for k, v in st.outputs.items()
    )
    params = (body.get("spec") or {}).get("params") or {}
    return Detail(
        namespace=job.meta.namespace,
        name=job.meta.name,
        state=str(st.state) if st.state else "-",
        reason=st.reason or "",
        message=st.message or "",
        type=job.raw_type or "-",
        worker=st.worker or found_worker(found),
        labels=job.meta.labels,
        diagnosis=found,
        attempts=timeline(attempts=st.attempts, now=now),
        outputs=outputs,
        params=json.dumps(redact(params), indent=2, sort_keys=True),
        progress=str(guess) if guess else "",
        fraction=guess.fraction if guess else None,
        pod=latest_pod(pods=pods, job=st.job),
        run=job.meta.labels.get("conveyor.dev/pipelinerun"),
    )


def found_worker(found: diagnosis.Diagnosis) -> str:
    for fact in found.facts:
        if fact.label == "Worker":
            return fact.text.split(" ", 1)[0]
    return "-"
