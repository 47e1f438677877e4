"""Child names: deterministic, within the PipelineJob name limit, items together."""

from __future__ import annotations

import pytest

from conveyor.core.pipeline import naming


@pytest.mark.parametrize(
    ("run", "step", "index", "name"),
    [
        ("api-ci-42", "build", None, "api-ci-42-build"),
        ("api-ci-42", "build", 0, "api-ci-42-build-0"),
        ("api-ci-42", "build", 255, "api-ci-42-build-255"),
    ],
)
def test_short_names_are_run_step_index(run: str, step: str, index: int | None, name: str) -> None:
    assert naming.child_name(run=run, step=step, index=index) == name


@pytest.mark.parametrize("index", [None, 0, 255])
def test_long_names_are_shortened_with_a_hash_and_keep_the_index(index: int | None) -> None:
    run, step = "r" * 63, "s" * 63
    name = naming.child_name(run=run, step=step, index=index)
    assert len(name) == naming.MAX_CHILD_NAME
    assert name == naming.child_name(run=run, step=step, index=index)  # deterministic
    assert name.endswith("" if index is None else f"-{index}")
    other = naming.child_name(run=run, step="t" + step[1:], index=index)
    assert other != name


def test_the_limit_leaves_room_for_the_attempt_suffix_of_job_names() -> None:
    # A PipelineJob's Jobs are <name>-<attempt>, attempts up to 101, Job names up to 63.
    assert naming.MAX_CHILD_NAME + len("-101") == 63


def test_labels_name_run_step_and_index() -> None:
    assert naming.labels(run="r", step="build", index=3) == {
        "conveyor.dev/pipelinerun": "r",
        "conveyor.dev/step": "build",
        "conveyor.dev/index": "3",
    }
    assert naming.INDEX_LABEL not in naming.labels(run="r", step="test", index=None)
