"""End to end: a PipelineCronJob with `pipelineRunTemplate` schedules
PipelineRuns with the policies it has for jobs (Forbid, Replace, history
limits), on the fast clock of test_cron.py's operator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from e2e.tests import kube
from e2e.tests import pipelines as p
from e2e.tests.test_cron import ck, cron_operator  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def cronjob(name: str, *, run_time: str, **spec: Any) -> dict[str, Any]:
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "steps": [p.step("build", run_time=run_time), p.step("test", depends_on=["build"])]
        },
    }
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineCronJob",
        "metadata": {"name": name},
        "spec": {"schedule": "* * * * *", "pipelineRunTemplate": template, **spec},
    }


async def runs(k: kube.Kube, cron: str) -> list[dict[str, Any]]:
    items = await k.list(kube.PR, labelSelector=f"conveyor.dev/cronjob={cron}")
    return sorted(items, key=lambda i: i["metadata"]["name"])


async def test_a_schedule_creates_runs_that_run_their_steps(ck: kube.Kube) -> None:  # noqa: F811
    await ck.create(cronjob("nightly", run_time="1s", concurrencyPolicy="Forbid"))
    found = await ck.wait_for("a scheduled run", lambda: runs(ck, "nightly"), timeout=30)
    first = found[0]
    assert first["metadata"]["labels"]["app"] == "nightly"
    owner = first["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("PipelineCronJob", "nightly")
    done = await p.wait_run(ck, first["metadata"]["name"], "SUCCESS", timeout=60)
    assert done["status"]["progress"] == "2/2"

    async def recorded() -> bool:
        status = (await ck.get(kube.PCJ, "nightly")).get("status") or {}
        return bool(status.get("lastSuccessfulTime"))

    await ck.wait_for("lastSuccessfulTime", recorded, timeout=30)


async def test_forbid_skips_while_a_run_runs(ck: kube.Kube) -> None:  # noqa: F811
    await ck.create(cronjob("forbid", run_time="30s", concurrencyPolicy="Forbid"))
    await ck.wait_for("the first run", lambda: runs(ck, "forbid"), timeout=30)
    await asyncio.sleep(8)  # four scheduled minutes
    assert len(await runs(ck, "forbid")) == 1
    await ck.wait_events("forbid", "SkippedForbid")


async def test_replace_revokes_the_running_run_and_its_steps(ck: kube.Kube) -> None:  # noqa: F811
    await ck.create(cronjob("replace", run_time="60s", concurrencyPolicy="Replace"))
    found = await ck.wait_for("the first run", lambda: runs(ck, "replace"), timeout=30)
    first = found[0]["metadata"]["name"]
    await p.wait_run(ck, first, "REVOKED", timeout=40)
    assert (await ck.pj(f"{first}-build"))["status"]["state"] == "REVOKED"
