"""A job waiting while its Worker has a free slot is reported as stuck."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import model, stuck
from tests import builders as b

NOW = b.T0 + datetime.timedelta(minutes=10)


def queued(name: str, *, minutes_ago: float, reason: str = "ConcurrencyLimit") -> model.PipelineJob:
    return (
        b.pipelinejob(name)
        .state("IN-QUEUE")
        .reason(reason)
        .assigned("build")
        .queued_at(NOW - datetime.timedelta(minutes=minutes_ago))
        .model()
    )


@pytest.mark.parametrize(
    ("job", "running", "paused", "is_stuck"),
    [
        pytest.param(queued("old", minutes_ago=5), 1, False, True, id="free slot, waiting long"),
        pytest.param(queued("new", minutes_ago=0.5), 1, False, False, id="free slot, just queued"),
        pytest.param(queued("full", minutes_ago=5), 2, False, False, id="worker full"),
        pytest.param(queued("held", minutes_ago=5), 0, True, False, id="worker paused"),
        pytest.param(
            queued("later", minutes_ago=5, reason="RetryBackoff"), 0, False, False, id="backoff"
        ),
    ],
)
def test_find(job: model.PipelineJob, running: int, paused: bool, is_stuck: bool) -> None:
    worker = b.worker("build").concurrency(2).paused(paused).model()
    found = stuck.find(jobs=[job], workers={"build": worker}, running={"build": running}, now=NOW)
    assert (found == [job]) is is_stuck
