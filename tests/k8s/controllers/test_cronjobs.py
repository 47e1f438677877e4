"""cronjobs: a PipelineCronJob creates the run its schedule calls for once,
writes its status against the version it decided on, and re-reads itself
on a conflict."""

from __future__ import annotations

from typing import Any

from conveyor.k8s import api
from tests import builders as b
from tests.k8s import fakes

CRON_KEY = (fakes.NS, "nightly")


def cronjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": {
            "name": "nightly",
            "namespace": fakes.NS,
            "uid": "uid-cron",
            "generation": 1,
            "creationTimestamp": b.ts(b.at(minutes=-30)),
        },
        "spec": {
            "schedule": "*/15 * * * *",
            "jobTemplate": {"spec": {"type": "build", "params": b.VALID_PARAMS["build"]}},
            **spec,
        },
    }


def runs(h: fakes.Harness) -> list[str]:
    return sorted(n for (_, n), o in h.api.objects["pipelinejobs"].items())


async def test_a_schedule_time_creates_one_run_and_records_it() -> None:
    h = fakes.Harness()
    h.api.put("pipelinecronjobs", cronjob())
    await h.start()
    assert len(runs(h)) == 1
    assert h.api.get_status("pipelinecronjobs", "nightly").get("lastScheduleTime")
    # Looked at again, nothing new is due: no second run, no write.
    h.api.requests.clear()
    h.ctl.cronjobs.advance(CRON_KEY, now=h.ctl.clock.now())
    await h.settle()
    assert len(runs(h)) == 1
    assert h.api.writes() == {}


async def test_a_conflict_on_its_status_reads_it_again() -> None:
    h = fakes.Harness()
    h.api.put("pipelinecronjobs", cronjob())
    h.api.fail("PATCH", "pipelinecronjobs", api.ApiError(status=409, reason="Conflict", message=""))
    await h.start()
    assert ("GET", "pipelinecronjobs", "nightly") in h.api.requests
    assert len(runs(h)) == 1  # the run's AlreadyExists on the second try means done
    assert h.api.get_status("pipelinecronjobs", "nightly").get("lastScheduleTime")
