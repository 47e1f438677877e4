"""Which jobs have finished, newest finish first: the order of `conveyor
history` and the dashboard's history page."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from conveyor.core import model


def newest_first(
    jobs: Sequence[model.PipelineJob],
) -> list[tuple[datetime.datetime, model.PipelineJob]]:
    """(finished at, job) of each finished job, newest first; a job with no
    finish time counts from its creation, and a tie goes by name."""
    out = [
        (model.parse_time(j.status.finished_at) or j.meta.created_at, j)
        for j in jobs
        if j.status.state is not None and j.status.state.finished
    ]
    out.sort(key=lambda p: (p[0], p[1].meta.name), reverse=True)
    return out
