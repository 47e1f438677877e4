"""A synthetic delivery history: finished deploys (and a canary analysis) of
three services, as the archive holds them, for the insights page's tests
(tests/dashboard and the browser test in e2e/tests/test_dashboard.py).

Every change finishes hours away from the windows' edges (now - 7, 30, 90
days), so a test that reads the same archive a few seconds later counts the same.

Hand-worked over the last 30 days:
- api/prod: a deploy a day (31 with the fix after day 10's failure), one
  failed, one rollback (day 5 redeploys day 7's revision): 30 successful,
  1.00 a day (elite), lead time 3h (elite), failure rate 2/31 = 6% (high),
  time to restore 2h (high).
- web/staging: a deploy every 4 days back to day 88; days 12 and 24 failed:
  8 deploys, 6 successful, 0.20 a day (high), lead time 2d (high), failure
  rate 25% (low), restore 4d (medium: each fixed by the next deploy).
- worker/prod: one failed canary analysis, restored by a deploy 2h later.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from conveyor.archive import record
from tests.archive import builders

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Service:
    namespace: str
    service: str
    environment: str
    lead: datetime.timedelta  # from commit to deploy

    def deploy(
        self,
        name: str,
        *,
        finished: datetime.datetime,
        revision: str,
        state: str = "SUCCESS",
        type_: str = "deploy",
    ) -> dict[str, Any]:
        labels = {
            "conveyor.dev/service": self.service,
            "conveyor.dev/environment": self.environment,
            "conveyor.dev/revision": revision,
            "conveyor.dev/commit-time": str(int((finished - self.lead).timestamp())),
        }
        return builders.job(
            name=name,
            namespace=self.namespace,
            type_=type_,
            state=state,
            finished=finished,
            labels=labels,
            worker="deploy",
        )


def bodies(*, now: datetime.datetime, namespace: str) -> list[dict[str, Any]]:
    api = Service(namespace=namespace, service="api", environment="prod", lead=3 * HOUR)
    out = [
        api.deploy(
            f"api-deploy-{k}",
            finished=now - k * DAY - 3 * HOUR,
            revision="r7" if k == 5 else f"r{k}",  # day 5: back to day 7's revision
            state="FAILED" if k == 10 else "SUCCESS",
        )
        for k in range(40)
    ]
    out.append(api.deploy("api-deploy-10-fix", finished=now - 10 * DAY - HOUR, revision="r10b"))
    web = Service(namespace=namespace, service="web", environment="staging", lead=2 * DAY)
    out += [
        web.deploy(
            f"web-deploy-{k}",
            finished=now - k * DAY - 5 * HOUR,
            revision=f"w{k}",
            state="FAILED" if k in (12, 24) else "SUCCESS",
        )
        for k in range(0, 90, 4)
    ]
    worker = Service(namespace=namespace, service="worker", environment="prod", lead=HOUR)
    out.append(
        worker.deploy(
            "worker-canary-1",
            finished=now - 2 * DAY - 6 * HOUR,
            revision="k2",
            state="FAILED",
            type_="canary-analysis",
        )
    )
    out.append(worker.deploy("worker-deploy-1", finished=now - 2 * DAY - 4 * HOUR, revision="k3"))
    return out


def records(*, now: datetime.datetime, namespace: str) -> list[record.Record]:
    bodies_ = bodies(now=now, namespace=namespace)
    found = [record.from_body(kind=record.PIPELINEJOB, body=x) for x in bodies_]
    return [r for r in found if r is not None]
