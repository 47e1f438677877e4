"""The history page from the archive (when the dashboard has one): the same
view as from the live store, over records the API may have deleted long ago.
Pure: the records are read by the server (archive.store, in a thread)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from conveyor.archive import record
from conveyor.core import model
from conveyor.dashboard.views import history

PAGE_SIZE = 50


def jobs_of(records: Sequence[record.Record]) -> list[model.PipelineJob]:
    return [model.parse_pipelinejob(record.as_object(r)) for r in records]


def view(
    *,
    recent: Sequence[record.Record],
    page: Sequence[record.Record],
    finished: int,
    succeeded: int,
    now: datetime.datetime,
) -> history.History:
    """Charts and percentiles from `recent` (the last day), the table from
    `page` (one page of all), the counts over the whole archive."""
    charts = history.history(jobs=jobs_of(recent), now=now, page=1, page_size=0)
    rows = history.history(jobs=jobs_of(page), now=now, page=1, page_size=PAGE_SIZE).rows
    return dataclasses.replace(charts, rows=rows, finished=finished, succeeded=succeeded)


def run_bodies(records: Sequence[record.Record]) -> list[dict[str, object]]:
    return [record.as_object(r) for r in records]
