"""Worker health from the pods of the jobs holding its slots."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import health, model, observe

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
Phase = observe.Phase
State = model.WorkerState


def pending(reason: str, *, age: float = 0, pod: str = "p-1") -> observe.Observation:
    created = model.format_time(NOW - datetime.timedelta(seconds=age))
    return observe.Observation(
        phase=Phase.PENDING,
        pod=pod,
        pod_created_at=created,
        waiting_reason=reason,
        waiting_message=f"{reason} details",
    )


RUNNING = observe.Observation(phase=Phase.RUNNING, pod="r-1")
STARTING = observe.Observation(phase=Phase.PENDING, pod="s-1")


@pytest.mark.parametrize(
    ("observations", "state", "reason"),
    [
        pytest.param([], State.ONLINE, "Ready", id="no jobs"),
        pytest.param([RUNNING, STARTING], State.ONLINE, "Ready", id="healthy"),
        pytest.param([pending("ImagePullBackOff")], State.OFFLINE, "ImagePullFailing", id="pull"),
        pytest.param([pending("ErrImagePull")], State.OFFLINE, "ImagePullFailing", id="err pull"),
        pytest.param(
            [pending("CreateContainerConfigError")],
            State.OFFLINE,
            "ContainerConfigError",
            id="config",
        ),
        pytest.param(
            [pending("ImagePullBackOff"), RUNNING], State.DEGRADED, "ImagePullFailing", id="some"
        ),
        pytest.param(
            [pending("Unschedulable", age=10)], State.ONLINE, "Ready", id="unschedulable in grace"
        ),
        pytest.param(
            [pending("Unschedulable", age=600)],
            State.OFFLINE,
            "Unschedulable",
            id="unschedulable past grace",
        ),
        pytest.param([pending("ContainerCreating")], State.ONLINE, "Ready", id="just starting"),
    ],
)
def test_assess(observations: list[observe.Observation], state: State, reason: str) -> None:
    judged = health.assess(observations=observations, now=NOW)
    assert (judged.state, judged.reason) == (state, reason)
    assert (judged.offline_cause is not None) == (state is State.OFFLINE)


def test_the_message_names_the_cause_and_an_example_pod() -> None:
    judged = health.assess(
        observations=[pending("ImagePullBackOff", pod="build-7-1-x"), RUNNING], now=NOW
    )
    assert judged.message == (
        "1 of 2 pods cannot start "
        "(e.g. pod build-7-1-x: ImagePullBackOff: ImagePullBackOff details)"
    )
    assert judged.example_pod == "build-7-1-x"


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("ImagePullFailing", health.CannotStart.IMAGE_PULL),  # a Worker's health reason
        ("ErrImagePull", health.CannotStart.IMAGE_PULL),  # a pod's waiting reason
        ("ImagePullBackOff", health.CannotStart.IMAGE_PULL),
        ("InvalidImageName", health.CannotStart.IMAGE_PULL),
        ("ContainerConfigError", health.CannotStart.CONTAINER_CONFIG),
        ("CreateContainerConfigError", health.CannotStart.CONTAINER_CONFIG),
        ("Unschedulable", health.CannotStart.UNSCHEDULABLE),
        ("ContainerCreating", None),
        ("InvalidSpec", None),
        ("an image is missing", None),  # words are not a reason
        (None, None),
    ],
)
def test_cannot_start_is_a_typed_reason(
    reason: str | None, kind: health.CannotStart | None
) -> None:
    assert health.CannotStart.of(reason) is kind
