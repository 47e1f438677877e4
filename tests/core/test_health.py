"""Worker health from the pods of the jobs holding its slots."""

from __future__ import annotations

import datetime

import pytest

from conveyor.core import health, model, observe
from tests import builders as b

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


@pytest.mark.parametrize(
    ("field", "worker_fault"),
    [
        ("Worker.spec.jobTemplate", True),
        ("Worker.spec.template", True),
        ("Worker.metadata.name", True),
        ("spec.params.repository", False),
        ("spec.podTemplate", False),
        ("metadata.name", False),
    ],
)
def test_a_render_error_blames_the_worker_only_on_its_own_fields(
    field: str, worker_fault: bool
) -> None:
    assert health.blames_worker(model.SpecError(field=field, message="x")) is worker_fault


def test_a_worker_that_cannot_render_is_offline_with_the_field_named() -> None:
    judged = health.invalid_template(
        model.SpecError(field="Worker.spec.jobTemplate", message="took longer than 2s")
    )
    assert (judged.state, judged.reason) == (State.OFFLINE, "InvalidTemplate")
    assert judged.offline_cause == (
        "its template is invalid: Worker.spec.jobTemplate: took longer than 2s"
    )


ERROR = model.SpecError(field="Worker.spec.jobTemplate", message="x")


@pytest.mark.parametrize(
    ("generation", "found", "expected"),
    [
        (3, None, None),  # nothing found
        (3, (3, ERROR), ERROR),  # found for the spec as it is
        (4, (3, ERROR), None),  # the Worker was edited since: try again
    ],
)
def test_a_template_error_holds_until_the_worker_is_edited(
    generation: int, found: tuple[int, model.SpecError] | None, expected: model.SpecError | None
) -> None:
    worker = b.worker().generation(generation).model()
    assert health.template_error(worker=worker, found=found) == expected


FORBIDDEN = 'pods "j-1-x" is forbidden: violates PodSecurity "restricted:latest"'


@pytest.mark.parametrize(
    ("obs", "message", "reason"),
    [
        # A Job with no pod and a FailedCreate Event: judged as a pod that cannot start.
        (observe.Observation(phase=Phase.PENDING), FORBIDDEN, "FailedCreate"),
        # No Event (yet): nothing to say.
        (observe.Observation(phase=Phase.PENDING), None, None),
        # A pod exists after all: the pod speaks for itself.
        (STARTING, FORBIDDEN, None),
        (RUNNING, FORBIDDEN, None),
    ],
)
def test_a_failed_create_reads_as_a_pod_that_cannot_start(
    obs: observe.Observation, message: str | None, reason: str | None
) -> None:
    seen = health.failed_create(obs=obs, message=message)
    assert seen.waiting_reason == reason
    if reason:
        assert seen.waiting_message == f"the Job controller cannot create its pod: {FORBIDDEN}"
        judged = health.assess(observations=[seen], now=NOW)
        assert (judged.state, judged.reason) == (State.OFFLINE, "FailedCreate")


GRACE = health.FAILED_CREATE_GRACE


@pytest.mark.parametrize(
    ("obs", "age", "expected"),
    [
        (observe.Observation(phase=Phase.PENDING), GRACE, True),
        (observe.Observation(phase=Phase.PENDING), GRACE / 2, False),  # a pod may be on its way
        (STARTING, GRACE * 10, False),  # it has a pod
        (RUNNING, GRACE * 10, False),
        (observe.Observation(phase=Phase.PENDING), None, False),  # no creation time known
    ],
)
def test_events_are_read_only_for_a_job_without_a_pod_past_the_grace(
    obs: observe.Observation, age: datetime.timedelta | None, expected: bool
) -> None:
    created = None if age is None else NOW - age
    assert health.needs_events(obs=obs, job_created=created, now=NOW) is expected
