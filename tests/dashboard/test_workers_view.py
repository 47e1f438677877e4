"""The health page: state, slots busy of the limit, queue, heartbeat age,
and the cause and an example pod when a Worker is not ONLINE."""

from __future__ import annotations

from conveyor.core import model
from conveyor.dashboard.views import workers
from tests.dashboard import builders as b


def test_an_offline_worker_shows_its_cause_and_an_example_pod() -> None:
    status = {
        "state": "OFFLINE",
        "reason": "ImagePullFailing",
        "message": "its pods cannot start (e.g. pod j-1-abcde: ImagePullBackOff)",
        "lastHeartbeat": b.ts(b.at(-10)),
    }
    body = b.worker_body("build", concurrency=2, status=status)
    holder = b.job("j", state="RUNNING", worker="build", attempt=1, job="j-1")
    waiting = b.job("w", state="IN-QUEUE", reason="WorkerOffline", created=b.at(-30))
    pod = b.pod_pending("j-1", waiting_reason="ImagePullBackOff")
    pod["metadata"]["labels"]["conveyor.dev/worker"] = "build"
    (row,) = workers.rows(
        workers=[model.parse_worker(body)],
        bodies=[body],
        jobs=[model.parse_pipelinejob(x) for x in (holder, waiting)],
        pods=[pod],
        now=b.T0,
    )
    assert (row.state, row.reason, row.running, row.limit, row.queued) == (
        "OFFLINE",
        "ImagePullFailing",
        1,
        2,
        1,
    )
    assert (row.heartbeat, row.stale, row.oldest) == ("10s", False, "30s")
    assert row.cause == status["message"]
    assert row.example_pod == "j-1-abcde (ImagePullBackOff)"
    assert row.fraction == 0.5


def test_an_online_worker_with_a_stale_heartbeat() -> None:
    status = {"state": "ONLINE", "reason": "Ready", "lastHeartbeat": b.ts(b.at(minutes=-10))}
    body = b.worker_body("build", status=status)
    (row,) = workers.rows(
        workers=[model.parse_worker(body)], bodies=[body], jobs=[], pods=[], now=b.T0
    )
    assert (row.state, row.stale, row.example_pod) == ("ONLINE", True, None)
    assert "operator seems down" in row.cause
