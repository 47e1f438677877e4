"""The dependency graph: which step may run, in what order, and cycles named."""

from __future__ import annotations

import pytest

from conveyor.core.pipeline import dag

S = dag.StepState
R = dag.Readiness


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({}, (R.READY, None)),
        ({"a": S.SUCCESS, "b": S.SUCCESS}, (R.READY, None)),
        ({"a": S.SUCCESS, "b": S.SKIPPED}, (R.READY, None)),  # skipped counts as done
        ({"a": S.SUCCESS, "b": S.RUNNING}, (R.BLOCKED, None)),
        ({"a": S.PENDING, "b": S.IN_QUEUE}, (R.BLOCKED, None)),
        ({"a": S.FAILED, "b": S.RUNNING}, (R.SKIP, "a")),
        ({"a": S.SUCCESS, "b": S.REVOKED}, (R.SKIP, "b")),
    ],
)
def test_readiness(states: dict[str, dag.StepState], expected: tuple[dag.Readiness, str]) -> None:
    depends_on = list(states)
    assert dag.readiness(depends_on=depends_on, states=states) == expected


def test_order_puts_dependencies_first_and_keeps_the_given_order() -> None:
    graph = {"deploy": ["test"], "build": [], "test": ["build"], "lint": []}
    assert dag.order(graph=graph) == ("build", "test", "lint", "deploy")


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": [], "b": ["a"]}, ()),
        ({"a": ["a"]}, ("a", "a")),
        ({"a": ["b"], "b": ["a"]}, ("a", "b", "a")),
        ({"x": [], "a": ["c"], "b": ["a"], "c": ["b"]}, ("a", "c", "b", "a")),
        ({"a": ["ghost"]}, ()),  # unknown names are the name checker's business
    ],
)
def test_find_cycle_names_the_steps(graph: dict[str, list[str]], cycle: tuple[str, ...]) -> None:
    assert dag.find_cycle(graph=graph) == cycle
    if cycle:
        with pytest.raises(ValueError, match="cycle"):
            dag.order(graph=graph)


def test_a_200_step_chain_and_a_200_step_diamond() -> None:
    chain = {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(200)}
    assert dag.order(graph=dict(reversed(chain.items())))[:3] == ("s0", "s1", "s2")
    assert dag.find_cycle(graph=chain) == ()
    chain["s0"] = ["s199"]
    assert len(dag.find_cycle(graph=chain)) == 201
