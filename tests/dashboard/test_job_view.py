"""The job page: the explanation is `conveyor why`'s text; attempts as a
timeline; outputs; secrets not shown; the pod whose logs are streamed."""

from __future__ import annotations

from conveyor.dashboard.views import job
from conveyor.presentation import diagnosis
from tests.dashboard import builders as b


def test_the_explanation_is_the_diagnosis_of_conveyor_why() -> None:
    body = b.job(
        "wait",
        state="IN-QUEUE",
        reason="ConcurrencyLimit",
        message="all 1 slots of Worker build are busy",
        created=b.at(-60),
    )
    holder = b.job("holder", state="RUNNING", worker="build", attempt=1, started_at=b.at(-30))
    workers = [b.worker_body("build", concurrency=1)]
    view = job.detail(
        body=body, jobs=[body, holder], workers=workers, pods=[], events=[], typical={}, now=b.T0
    )
    assert view.diagnosis == diagnosis.diagnose(
        job=body, jobs=[body, holder], workers=workers, pods=[], events=[], now=b.T0
    )
    assert any("holder" in f.text for f in view.diagnosis.facts)


def test_attempts_become_a_timeline() -> None:
    attempts = [
        b.attempt_entry(1, start=b.at(0), finish=b.at(10), result="FAILED"),
        b.attempt_entry(2, start=b.at(20), finish=b.at(40), result="SUCCESS"),
    ]
    body = b.job(
        "j",
        state="SUCCESS",
        attempt=2,
        attempts=attempts,
        started_at=b.at(20),
        finished_at=b.at(40),
        outputs={"digest": "sha256:abc", "n": 3},
    )
    view = job.detail(
        body=body, jobs=[body], workers=[], pods=[], events=[], typical={}, now=b.at(50)
    )
    first, second = view.attempts
    assert (first.x, first.width, first.result, first.took) == (0.0, 25.0, "FAILED", "10s")
    assert (second.x, second.width, second.result) == (50.0, 50.0, "SUCCESS")
    assert view.outputs == (("digest", "sha256:abc"), ("n", "3"))


def test_a_running_attempt_reaches_now() -> None:
    bars = job.timeline(
        attempts=[job.model.Attempt(attempt=1, job="j-1", start=b.ts(b.at(0)))], now=b.at(30)
    )
    assert (bars[0].x, bars[0].width, bars[0].result, bars[0].took) == (
        0.0,
        100.0,
        "RUNNING",
        "30s",
    )


def test_secret_looking_params_are_hidden_references_shown() -> None:
    params = {
        "image": "alpine",
        "apiToken": "s3cr3t",
        "password": ["a", "b"],
        "credentials": {"secretRef": {"name": "jira"}},
        "env": [{"name": "X", "value": "1"}],
    }
    assert job.redact(params) == {
        "image": "alpine",
        "apiToken": job.HIDDEN,
        "password": [job.HIDDEN, job.HIDDEN],
        "credentials": {"secretRef": {"name": "jira"}},
        "env": [{"name": "X", "value": "1"}],
    }


def test_the_logs_follow_the_latest_pod_of_the_current_attempt() -> None:
    old = b.pod_running("j-2", created=b.at(0))
    new = b.pod_running("j-2", created=b.at(5))
    new["metadata"]["name"] = "j-2-zzzzz"
    other = b.pod_running("j-1")
    assert job.latest_pod(pods=[old, new, other], job="j-2") == "j-2-zzzzz"
    assert job.latest_pod(pods=[other], job="j-2") is None
    assert job.latest_pod(pods=[other], job=None) is None
