"""PipelineRuns as the CLI prints them: rows with the definition used, the
step that holds a run, the DAG with each step's state; `conveyor run`'s
params and manifest; `conveyor rerun --from-failed`'s manifest."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conveyor.cli import errors, rerun_cmd, rerun_run, run_cmd, runs_view

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def run(steps: list[dict[str, Any]], **status: Any) -> dict[str, Any]:
    defined = [
        {"name": "build", "forEach": "{{ params.platforms }}"},
        {"name": "test", "dependsOn": ["build"]},
        {"name": "deploy", "dependsOn": ["test"]},
    ]
    return {
        "metadata": {
            "name": "r",
            "namespace": "team-a",
            "creationTimestamp": "2026-01-01T11:58:00Z",
            "labels": {"team": "a"},
        },
        "spec": {"pipelineRef": {"name": "api-ci"}, "params": {"revision": "1"}},
        "status": {
            "pipelineSpec": {"steps": defined, "finally": [{"name": "notify"}]},
            "pipelineGeneration": 3,
            "steps": steps,
            **status,
        },
    }


BUILD_DONE = {
    "name": "build",
    "state": "SUCCESS",
    "items": 2,
    "jobs": ["r-build-0", "r-build-1"],
    "outputs": [{}, {}],
}


def test_a_row_shows_steps_done_and_the_generation_it_used() -> None:
    body = run(
        [BUILD_DONE],
        state="RUNNING",
        progress="1/4",
        reason="Running",
        startedAt="2026-01-01T11:59:00Z",
    )
    assert runs_view.row(body, now=NOW, all_namespaces=False) == [
        "r",
        "RUNNING",
        "1/4",
        "Running",
        "api-ci@3",
        "2m",
        "60s",
    ]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            [BUILD_DONE, {"name": "test", "state": "RUNNING", "jobs": ["r-test"]}],
            ("test", "RUNNING", "r-test"),
        ),
        # A waiting step holds the run before a running one does.
        (
            [
                {"name": "build", "state": "RUNNING", "jobs": ["r-build-0"]},
                {"name": "lint", "state": "IN-QUEUE", "jobs": ["r-lint"]},
            ],
            ("lint", "IN-QUEUE", "r-lint"),
        ),
        # A failed fan-out item: that item's job is the one to explain.
        (
            [
                {
                    "name": "build",
                    "state": "FAILED",
                    "jobs": ["r-build-0", "r-build-1"],
                    "failedItems": [1],
                    "message": "step build item 1 failed",
                }
            ],
            ("build", "FAILED", "r-build-1"),
        ),
        ([BUILD_DONE], None),
    ],
)
def test_the_step_that_holds_a_run(
    steps: list[dict[str, Any]], expected: tuple[str, str, str] | None
) -> None:
    hold = runs_view.holding(run(steps))
    assert (None if hold is None else (hold.step, hold.state, hold.child)) == expected


def test_the_graph_shows_each_step_by_depth_with_its_state() -> None:
    body = run(
        [
            BUILD_DONE,
            {"name": "test", "state": "FAILED", "message": "step test failed"},
            {"name": "deploy", "state": "Skipped", "message": "a step it depends on failed"},
        ],
        state="FAILED",
        progress="3/4",
    )
    assert runs_view.graph(body) == [
        "pipelinerun team-a/r: FAILED (3/4 steps done)",
        "steps:",
        "● build   SUCCESS  (2/2 items)",
        "    └▶ ✗ test    FAILED  after build  (step test failed)",
        "        └▶ ◌ deploy  Skipped  after test  (a step it depends on failed)",
        "finally:",
        "○ notify  Pending",
    ]


def test_a_cycle_does_not_hang_the_graph() -> None:
    body = {
        "metadata": {"name": "c"},
        "spec": {"steps": [{"name": "a", "dependsOn": ["b"]}, {"name": "b", "dependsOn": ["a"]}]},
    }
    assert len(runs_view.graph(body)) == 4


def test_params_are_read_as_yaml_values() -> None:
    got = run_cmd.params(
        [
            "revision=3f2a9c1",
            "platforms=[linux/amd64, linux/arm64]",
            "count=3",
            "empty=",
            "text=a: b",
        ]
    )
    assert got == {
        "revision": "3f2a9c1",
        "platforms": ["linux/amd64", "linux/arm64"],
        "count": 3,
        "empty": "",
        "text": {"a": "b"},
    }
    with pytest.raises(errors.CliError, match="KEY=VALUE"):
        run_cmd.params(["novalue"])


def test_a_run_manifest_refers_to_its_pipeline() -> None:
    body = run_cmd.manifest(pipeline="api-ci", name=None, values={"revision": "1"}, timeout="1h")
    assert body["metadata"] == {"generateName": "api-ci-"}
    assert body["spec"] == {
        "pipelineRef": {"name": "api-ci"},
        "params": {"revision": "1"},
        "timeout": "1h",
    }


@pytest.mark.parametrize("from_failed", [True, False])
def test_a_rerun_copies_the_spec_and_resumes_only_from_failed(from_failed: bool) -> None:
    original = run([BUILD_DONE], state="FAILED")
    original["spec"]["revoke"] = True
    body = rerun_run.manifest(
        original=original, name="r2", from_failed=from_failed, build=rerun_cmd.manifest
    )
    assert body["kind"] == "PipelineRun"
    assert body["metadata"]["labels"] == {"team": "a", rerun_cmd.RERUN_OF: "r"}
    assert "revoke" not in body["spec"]
    assert body["spec"].get("resumeFrom") == ("r" if from_failed else None)
    assert "status" not in body
