"""ordering: one total order over waiting jobs — priority (higher first), then
creation time (older first, FIFO), then name."""

from __future__ import annotations

import itertools
import random

import pytest

from conveyor.core import model, ordering
from tests import builders as b


def names(jobs: list[model.PipelineJob]) -> list[str]:
    return [j.meta.name for j in jobs]


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        pytest.param(
            [b.pipelinejob("low").priority(0).model(), b.pipelinejob("high").priority(10).model()],
            ["high", "low"],
            id="higher priority first",
        ),
        pytest.param(
            [b.pipelinejob("neg").priority(-5).model(), b.pipelinejob("zero").priority(0).model()],
            ["zero", "neg"],
            id="negative priority after the default",
        ),
        pytest.param(
            [
                b.pipelinejob("new").created(b.at(10)).model(),
                b.pipelinejob("old").created(b.at(0)).model(),
            ],
            ["old", "new"],
            id="FIFO within a priority",
        ),
        pytest.param(
            [
                b.pipelinejob("old-low").priority(0).created(b.at(0)).model(),
                b.pipelinejob("new-high").priority(1).created(b.at(60)).model(),
            ],
            ["new-high", "old-low"],
            id="priority beats age",
        ),
        pytest.param(
            [b.pipelinejob("b").model(), b.pipelinejob("c").model(), b.pipelinejob("a").model()],
            ["a", "b", "c"],
            id="same priority and time: by name",
        ),
        pytest.param(
            [
                b.pipelinejob("d").priority(1).created(b.at(5)).model(),
                b.pipelinejob("c").priority(1).created(b.at(5)).model(),
                b.pipelinejob("a").priority(0).created(b.at(0)).model(),
                b.pipelinejob("e").priority(2).created(b.at(9)).model(),
                b.pipelinejob("b").priority(1).created(b.at(1)).model(),
            ],
            ["e", "b", "c", "d", "a"],
            id="all three keys",
        ),
        pytest.param(
            [
                b.pipelinejob("x").type("no-such-type").priority(5).model(),
                b.pipelinejob("y").priority(1).model(),
            ],
            ["y", "x"],
            id="an invalid spec counts as priority 0",
        ),
        pytest.param([], [], id="empty queue"),
    ],
)
def test_queue_order(jobs: list[model.PipelineJob], expected: list[str]) -> None:
    assert names(ordering.ordered(jobs)) == expected


def test_ordered_does_not_change_its_argument() -> None:
    jobs = [b.pipelinejob("b").model(), b.pipelinejob("a").model()]
    ordering.ordered(jobs)
    assert names(jobs) == ["b", "a"]


def random_jobs(rng: random.Random, count: int) -> list[model.PipelineJob]:
    """Jobs with many ties in priority and creation time (never in name)."""
    return [
        b.pipelinejob(f"job-{n:03d}")
        .priority(rng.choice([-1, 0, 0, 5]))
        .created(b.at(rng.choice([0, 1, 2])))
        .model()
        for n in rng.sample(range(1000), count)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_the_order_is_total_and_independent_of_the_input_order(seed: int) -> None:
    rng = random.Random(seed)
    jobs = random_jobs(rng, 12)
    expected = names(ordering.ordered(jobs))
    for _ in range(10):
        shuffled = jobs[:]
        rng.shuffle(shuffled)
        assert names(ordering.ordered(shuffled)) == expected
    keys = [ordering.sort_key(j) for j in jobs]
    assert len(set(keys)) == len(keys), "two jobs compare equal"


@pytest.mark.parametrize("seed", range(5))
def test_every_adjacent_pair_is_in_order(seed: int) -> None:
    queue = ordering.ordered(random_jobs(random.Random(seed), 15))
    for first, second in itertools.pairwise(queue):
        assert first.spec is not None
        assert second.spec is not None
        assert (first.spec.priority > second.spec.priority) or (
            first.spec.priority == second.spec.priority
            and (first.meta.created_at, first.meta.name)
            < (second.meta.created_at, second.meta.name)
        )
