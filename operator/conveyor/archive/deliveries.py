"""The insights report from what the archive holds."""

from __future__ import annotations

import datetime

from conveyor.archive import changes, metrics, record, store
from conveyor.core import insights


def records(
    *, archive: store.Archive, until: datetime.datetime, namespace: str | None = None
) -> list[record.Record]:
    """Every deploy, promote and canary analysis before `until` (earlier ones
    tell which revisions ran before), their runs, and those runs' builds."""
    jobs = list(
        archive.all(where=store.Filter(types=changes.TYPES, until=until, namespace=namespace))
    )
    names = sorted({j.pipelinerun for j in jobs if j.pipelinerun})
    related: list[record.Record] = []
    for start in range(0, len(names), store.CHUNK):
        chunk = names[start : start + store.CHUNK]
        related += archive.all(
            where=store.Filter(kind=record.PIPELINERUN, names=chunk, namespace=namespace)
        )
        related += archive.all(
            where=store.Filter(
                types=changes.BUILD_TYPES, pipelineruns=chunk, until=until, namespace=namespace
            )
        )
    return [*jobs, *related]


def report(
    *,
    archive: store.Archive,
    since: datetime.datetime,
    until: datetime.datetime,
    namespace: str | None = None,
) -> insights.Report:
    found = records(archive=archive, until=until, namespace=namespace)
    return insights.report(changes=changes.changes(found), since=since, until=until)


def export(report: insights.Report) -> None:
    """The report as the conveyor_dora_* gauges (the previous values cleared)."""
    gauges = (
        metrics.DEPLOYMENT_FREQUENCY,
        metrics.LEAD_TIME,
        metrics.CHANGE_FAILURE_RATE,
        metrics.TIME_TO_RESTORE,
        metrics.DEPLOYS,
        metrics.BAND,
    )
    for gauge in gauges:
        gauge.clear()
    groups = [(g.service, g.environment, g.figures) for g in report.groups]
    for service, environment, f in [*groups, ("", "", report.overall)]:
        metrics.DEPLOYMENT_FREQUENCY.labels(service, environment).set(f.deployment_frequency)
        metrics.DEPLOYS.labels(service, environment).set(f.deploys)
        if f.lead_time is not None:
            metrics.LEAD_TIME.labels(service, environment).set(f.lead_time.total_seconds())
        if f.change_failure_rate is not None:
            metrics.CHANGE_FAILURE_RATE.labels(service, environment).set(f.change_failure_rate)
        if f.time_to_restore is not None:
            metrics.TIME_TO_RESTORE.labels(service, environment).set(
                f.time_to_restore.total_seconds()
            )
        for metric, band in f.bands().items():
            if band is not None:
                metrics.BAND.labels(service, environment, metric, band.value).set(1)
