"""Queue order: one total order over the jobs waiting for a Worker.

Higher priority first, then older first (FIFO), then by name, so that two
jobs never compare equal and every replica of the operator agrees.

Pure: no I/O.
"""

from __future__ import annotations

import datetime

from conveyor.core import model

SortKey = tuple[int, datetime.datetime, str, str]


def sort_key(job: model.PipelineJob) -> SortKey:
    priority = job.spec.priority if job.spec else 0
    return (-priority, job.meta.created_at, job.meta.namespace, job.meta.name)


def ordered(jobs: list[model.PipelineJob]) -> list[model.PipelineJob]:
    return sorted(jobs, key=sort_key)
