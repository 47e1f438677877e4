"""Archive records as the changes the insights count (core/insights). Pure.

Which service and environment a deploy belongs to, its revision and its
commit time come from these places, first found wins (docs/history.md):

- service: label conveyor.dev/service on the job, else on its PipelineRun,
  else params.release (a Helm release), else "-".
- environment: label conveyor.dev/environment on the job, else on its run,
  else params.targetNamespace, else the job's namespace.
- revision: label conveyor.dev/revision on the job, else on its run, else
  params.digest (promote), else params.chart.version, else the run's
  params.revision. Used to see rollbacks (a redeploy of an older revision).
- commit time: label conveyor.dev/commit-time (Unix seconds) on the job or
  its run, else the run's params.commitTime, else outputs.commitTime
  (RFC 3339) of a build job of the same run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from conveyor.archive import record
from conveyor.core import insights, model

SERVICE = "conveyor.dev/service"
ENVIRONMENT = "conveyor.dev/environment"
REVISION = "conveyor.dev/revision"
COMMIT_TIME = "conveyor.dev/commit-time"

DEPLOY_TYPES = ("deploy", "promote")
CANARY_TYPES = ("canary-analysis",)
BUILD_TYPES = ("build", "android-build")
TYPES = (*DEPLOY_TYPES, *CANARY_TYPES)
COUNTED = frozenset({"SUCCESS", "FAILED"})  # a revoked deploy is neither good nor bad

Key = tuple[str, str]  # (namespace, run name)


def changes(records: Iterable[record.Record]) -> list[insights.Change]:
    """The deploys, promotes and canary analyses among `records`, with their
    runs (and the runs' builds) among `records` too for what the jobs lack."""
    everything = list(records)
    runs = {(r.namespace, r.name): r for r in everything if r.kind == record.PIPELINERUN}
    commits: dict[Key, datetime.datetime] = {}
    for r in everything:
        if r.kind == record.PIPELINEJOB and r.type in BUILD_TYPES and r.pipelinerun:
            built = _time(_outputs(r).get("commitTime"))
            key = (r.namespace, r.pipelinerun)
            if built is not None and (key not in commits or built < commits[key]):
                commits[key] = built  # the oldest commit of the run's builds
    out = []
    for r in everything:
        if r.kind != record.PIPELINEJOB or r.type not in TYPES or r.state not in COUNTED:
            continue
        run = runs.get((r.namespace, r.pipelinerun)) if r.pipelinerun else None
        out.append(_change(r, run=run, built=commits.get((r.namespace, r.pipelinerun))))
    return out


def _change(
    job: record.Record, *, run: record.Record | None, built: datetime.datetime | None
) -> insights.Change:
    params = _params(job)
    run_params = _params(run) if run is not None else {}
    run_labels = run.labels if run is not None else {}
    chart: Mapping[str, Any] = params["chart"] if isinstance(params.get("chart"), Mapping) else {}
    return insights.Change(
        service=_first(job.labels.get(SERVICE), run_labels.get(SERVICE), params.get("release"))
        or "-",
        environment=_first(
            job.labels.get(ENVIRONMENT),
            run_labels.get(ENVIRONMENT),
            params.get("targetNamespace"),
        )
        or job.namespace,
        kind=insights.Kind.CANARY if job.type in CANARY_TYPES else insights.Kind.DEPLOY,
        finished_at=job.finished_at,
        succeeded=job.state == "SUCCESS",
        revision=_first(
            job.labels.get(REVISION),
            run_labels.get(REVISION),
            params.get("digest"),
            chart.get("version"),
            run_params.get("revision"),
        ),
        committed_at=_unix(job.labels.get(COMMIT_TIME))
        or _unix(run_labels.get(COMMIT_TIME))
        or _time(run_params.get("commitTime"))
        or built,
    )


def _first(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str | int) and str(value):
            return str(value)
    return None


def _params(r: record.Record) -> Mapping[str, Any]:
    params = (r.summary.get("spec") or {}).get("params")
    return params if isinstance(params, Mapping) else {}


def _outputs(r: record.Record) -> Mapping[str, Any]:
    outputs = (r.summary.get("status") or {}).get("outputs")
    return outputs if isinstance(outputs, Mapping) else {}


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return model.parse_time(value)
    except ValueError:
        return None


def _unix(value: str | None) -> datetime.datetime | None:
    if not value or not value.isdigit():
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
