"""The pipeline-run page: steps laid out by dependency depth, coloured by
the state in status.steps, fan-out counts and links to the steps' jobs."""

from __future__ import annotations

from conveyor.dashboard.views import runs
from tests.dashboard import builders as b

NS = b.NAMESPACE


def ci_run() -> dict[str, object]:
    return b.run(
        "ci-1",
        steps=[
            b.step("build"),
            b.step("test", "build"),
            b.step("lint"),
            b.step("deploy", "test", "lint"),
        ],
        finally_=[b.step("notify")],
        state="RUNNING",
        status_steps=[
            {
                "name": "build",
                "state": "SUCCESS",
                "jobs": ["ci-1-build-0", "ci-1-build-1", "ci-1-build-2"],
            },
            {"name": "test", "state": "RUNNING", "jobs": ["ci-1-test"]},
            {"name": "lint", "state": "Skipped"},
        ],
    )


def test_columns_by_depth_finally_last() -> None:
    g = runs.graph(run=ci_run(), states={}, pipelines={})
    column = {n.name: (n.x - runs.PAD) // (runs.NODE_W + runs.GAP_X) for n in g.nodes}
    assert column == {"build": 0, "lint": 0, "test": 1, "deploy": 2, "notify": 3}
    assert [n.name for n in g.nodes if n.final] == ["notify"]
    assert len(g.edges) == 3
    assert g.width == 2 * runs.PAD + 4 * runs.NODE_W + 3 * runs.GAP_X


def test_states_counts_and_links() -> None:
    states = {
        (NS, "ci-1-build-0"): "SUCCESS",
        (NS, "ci-1-build-1"): "SUCCESS",
        (NS, "ci-1-build-2"): "RUNNING",
    }
    nodes = {n.name: n for n in runs.graph(run=ci_run(), states=states, pipelines={}).nodes}
    assert (nodes["build"].state, nodes["build"].css) == ("SUCCESS", "state-success")
    assert nodes["build"].counts == "2 of 3 done, 1 running"
    assert nodes["build"].href == (
        f"/jobs?namespace={NS}&label=conveyor.dev%2Fpipelinerun%3Dci-1%2Cconveyor.dev%2Fstep%3Dbuild"
    )
    assert nodes["test"].href == f"/jobs/{NS}/ci-1-test"
    assert (nodes["test"].counts, nodes["test"].css) == ("", "state-running")
    assert (nodes["deploy"].state, nodes["deploy"].href) == ("Pending", None)
    assert nodes["lint"].css == "state-skipped"


def test_a_fan_out_not_yet_started_counts_its_items() -> None:
    run = b.run(
        "r",
        steps=[b.step("build")],
        status_steps=[
            {
                "name": "build",
                "state": "RUNNING",
                "items": 4,
                "jobs": ["r-build-0"],
                "message": "1 of 4 items created",
            }
        ],
    )
    (node,) = runs.graph(run=run, states={(NS, "r-build-0"): "RUNNING"}, pipelines={}).nodes
    assert node.counts == "0 of 4 done, 1 running"
    assert node.href is not None
    assert node.href.startswith("/jobs?")
    assert node.message == "1 of 4 items created"
    pending = b.run(
        "p",
        steps=[b.step("build")],
        status_steps=[{"name": "build", "state": "Pending", "items": 3}],
    )
    (node,) = runs.graph(run=pending, states={}, pipelines={}).nodes
    assert (node.counts, node.href) == ("0 of 3 started", None)


def test_children_it_cannot_see_count_as_their_step_says() -> None:
    nodes = {n.name: n for n in runs.graph(run=ci_run(), states={}, pipelines={}).nodes}
    assert nodes["build"].counts == "3 of 3 done"


def test_steps_of_a_referenced_pipeline() -> None:
    run = b.run("r", state="RUNNING")
    run["spec"] = {"pipelineRef": {"name": "api-ci"}}
    pipeline = {
        "metadata": {"namespace": NS, "name": "api-ci"},
        "spec": {"steps": [b.step("a"), b.step("b", "a")]},
    }
    g = runs.graph(run=run, states={}, pipelines={(NS, "api-ci"): pipeline})
    assert [n.name for n in g.nodes] == ["a", "b"]
    assert len(g.edges) == 1


def test_a_cycle_does_not_hang_the_page() -> None:
    run = b.run("r", steps=[b.step("a", "b"), b.step("b", "a")])
    assert {n.name for n in runs.graph(run=run, states={}, pipelines={}).nodes} == {"a", "b"}


def test_status_only_without_a_spec() -> None:
    run = b.run("r", status_steps=[{"name": "x", "state": "FAILED"}], state="FAILED")
    run["spec"] = {"pipelineRef": {"name": "gone"}}
    (node,) = runs.graph(run=run, states={}, pipelines={}).nodes
    assert (node.name, node.state) == ("x", "FAILED")


def test_run_rows_count_steps_done() -> None:
    (row,) = runs.run_rows(runs=[ci_run()], now=b.at(60))
    assert (row.state, row.done, row.total, row.age) == ("RUNNING", 2, 5, "60s")
    assert row.href == f"/runs/{NS}/ci-1"
