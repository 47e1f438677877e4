"""Names, labels and the API version have one source: core/names.py."""

from __future__ import annotations

import datetime

import pytest

import conveyor
from conveyor.core import cron, names


@pytest.mark.parametrize(
    ("pipelinejob", "attempt", "name"),
    [("j", 1, "j-1"), ("api-build-42", 3, "api-build-42-3"), ("x", 101, "x-101")],
)
def test_job_name(pipelinejob: str, attempt: int, name: str) -> None:
    assert names.job_name(pipelinejob=pipelinejob, attempt=attempt) == name


def test_cron_child_name_is_minutes_since_1970() -> None:
    when = datetime.datetime(2026, 1, 1, 12, 0, 59, tzinfo=datetime.UTC)
    assert names.cron_child_name(cron="nightly", scheduled_at=when) == "nightly-29454480"


def test_owner_labels() -> None:
    assert names.owner_labels(pipelinejob="a", attempt=2, worker="build") == {
        "app.kubernetes.io/managed-by": "conveyor",
        "conveyor.dev/pipelinejob": "a",
        "conveyor.dev/attempt": "2",
        "conveyor.dev/worker": "build",
    }


def test_the_api_version_is_said_once() -> None:
    assert names.GROUP_VERSION == "conveyor.dev/v1alpha1"
    assert (conveyor.API_GROUP, conveyor.API_VERSION) == (names.API_GROUP, names.API_VERSION)


def test_cron_uses_the_same_names() -> None:
    assert cron.CRONJOB_LABEL == names.LABEL_CRONJOB
    assert cron.SCHEDULED_AT_ANNOTATION == names.ANNOTATION_SCHEDULED_AT
