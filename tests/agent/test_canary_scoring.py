"""canary.scoring and canary.stats: the maths of a canary verdict, table-driven."""

from __future__ import annotations

import itertools
import math

import pytest

from conveyor_agent.canary import scoring, stats

NAN = math.nan
ERRORS = scoring.Metric(name="errors", query="q", direction="increase", threshold=10)
THROUGHPUT = scoring.Metric(name="rps", query="q", direction="decrease", threshold=10)
LATENCY = scoring.Metric(name="latency", query="q", direction="either", threshold=20)


@pytest.mark.parametrize(
    ("case", "metric", "baseline", "canary", "result", "change"),
    [
        ("equal", ERRORS, [5.0], [5.0], "pass", 0.0),
        ("better: fewer errors", ERRORS, [10.0], [2.0], "pass", -80.0),
        ("worse: more errors", ERRORS, [10.0], [12.0], "fail", 20.0),
        ("within the threshold", ERRORS, [10.0], [10.9], "pass", 9.0),
        ("exactly the threshold passes", ERRORS, [10.0], [11.0], "pass", 10.0),
        ("better: more throughput", THROUGHPUT, [100.0], [150.0], "pass", 50.0),
        ("worse: less throughput", THROUGHPUT, [100.0], [80.0], "fail", -20.0),
        ("either way: lower", LATENCY, [100.0], [70.0], "fail", -30.0),
        ("either way: higher", LATENCY, [100.0], [130.0], "fail", 30.0),
        ("either way: close", LATENCY, [100.0], [110.0], "pass", 10.0),
        ("no baseline data", ERRORS, [], [1.0], "nodata", None),
        ("no canary data", ERRORS, [1.0], [], "nodata", None),
        ("only NaN", ERRORS, [NAN, NAN], [1.0], "nodata", None),
        ("NaN points are dropped", ERRORS, [NAN, 10.0], [10.0, NAN, math.inf], "pass", 0.0),
        ("zero baseline, zero canary", ERRORS, [0.0], [0.0], "pass", 0.0),
        ("zero baseline, any errors", ERRORS, [0.0], [0.1], "fail", math.inf),
        ("zero baseline, less throughput", THROUGHPUT, [0.0], [-1.0], "fail", -math.inf),
        ("negative baseline", LATENCY, [-10.0], [-5.0], "fail", 50.0),
        ("means are compared", ERRORS, [8.0, 12.0], [9.0, 11.0], "pass", 0.0),
    ],
)
def test_judge(
    case: str,
    metric: scoring.Metric,
    baseline: list[float],
    canary: list[float],
    result: str,
    change: float | None,
) -> None:
    verdict = scoring.judge(metric=metric, baseline=baseline, canary=canary)

    assert verdict.result == result, case
    assert verdict.deviation == (None if change is None else pytest.approx(change))
    assert verdict.p_value is None  # too few points for the U test


NOISY_BASE = [10.0, 12.0, 9.0, 11.0, 13.0, 8.0, 10.0, 12.0, 9.0, 11.0]


@pytest.mark.parametrize(
    ("case", "canary", "result"),
    [
        # The mean is 12% higher from one outlier; the points are the same: noise.
        ("beyond the threshold but not significant", [*NOISY_BASE[:-1], 23.6], "pass"),
        ("beyond the threshold and significant", [x + 20 for x in NOISY_BASE], "fail"),
        ("significant but within the threshold", [x + 0.5 for x in NOISY_BASE], "pass"),
    ],
)
def test_judge_with_enough_points_also_asks_the_u_test(
    case: str, canary: list[float], result: str
) -> None:
    verdict = scoring.judge(metric=ERRORS, baseline=NOISY_BASE, canary=canary)

    assert verdict.p_value is not None
    assert verdict.result == result, (case, verdict)


def verdict(metric: str, result: scoring.Result) -> scoring.Verdict:
    return scoring.Verdict(metric=metric, result=result)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([verdict("a", "pass"), verdict("b", "pass")], 100.0),
        ([verdict("a", "pass"), verdict("b", "fail")], 50.0),
        ([verdict("a", "pass"), verdict("b", "nodata")], 100.0),  # not scored
        ([verdict("a", "nodata")], None),
        ([], None),
    ],
)
def test_interval_score(verdicts: list[scoring.Verdict], expected: float | None) -> None:
    assert scoring.score(verdicts) == expected


A = scoring.Metric(name="a", query="q")
B = scoring.Metric(name="b", query="q")
CRITICAL = scoring.Metric(name="c", query="q", critical=True)


@pytest.mark.parametrize(
    ("case", "metrics", "intervals", "pass_score", "result", "score", "failed"),
    [
        ("all pass", [A, B], [[verdict("a", "pass"), verdict("b", "pass")]], 95, "pass", 100, []),
        (
            "mean of the intervals below passScore",
            [A, B],
            [
                [verdict("a", "pass"), verdict("b", "pass")],
                [verdict("a", "pass"), verdict("b", "fail")],
            ],
            80,
            "fail",
            75,
            ["b"],
        ),
        (
            "a failure the score allows",
            [A, B],
            [
                [verdict("a", "pass"), verdict("b", "pass")],
                [verdict("a", "pass"), verdict("b", "fail")],
            ],
            75,
            "pass",
            75,
            ["b"],
        ),
        (
            "one critical metric failing fails whatever the score",
            [A, B, CRITICAL],
            [[verdict("a", "pass"), verdict("b", "pass"), verdict("c", "fail")]],
            0,
            "fail",
            66.7,
            ["c"],
        ),
        ("no data at all", [A], [[verdict("a", "nodata")]], 95, "inconclusive", None, []),
        (
            "a critical metric never had data",
            [A, CRITICAL],
            [[verdict("a", "pass"), verdict("c", "nodata")]],
            95,
            "inconclusive",
            100,
            [],
        ),
        (
            "an interval without data is not scored",
            [A],
            [[verdict("a", "nodata")], [verdict("a", "pass")]],
            95,
            "pass",
            100,
            [],
        ),
    ],
)
def test_conclude(
    case: str,
    metrics: list[scoring.Metric],
    intervals: list[list[scoring.Verdict]],
    pass_score: float,
    result: str,
    score: float | None,
    failed: list[str],
) -> None:
    analysis = scoring.conclude(intervals=intervals, metrics=metrics, pass_score=pass_score)

    assert (analysis.result, analysis.score, analysis.failed) == (result, score, failed), case
    assert analysis.reason


# -- the Mann-Whitney U test ---------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 1.0, 2.0], [3.0, 1.0, 2.0]),
        ([5.0, 5.0, 1.0], [2.5, 2.5, 1.0]),
        ([7.0, 7.0, 7.0], [2.0, 2.0, 2.0]),
        ([], []),
    ],
)
def test_ranks_share_ties(values: list[float], expected: list[float]) -> None:
    assert stats.ranks(values) == expected


def test_u_of_fully_separated_samples() -> None:
    # Worked by hand: U(x) = 0; mean 12.5, sigma sqrt(25*11/12) = 4.787;
    # z = (12.5 - 0.5) / 4.787 = 2.5067; two-sided p = 2 * P(Z > 2.5067) = 0.0122.
    u, p = stats.mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert u == 0
    assert p == pytest.approx(0.01219, abs=1e-4)
    _, greater = stats.mann_whitney_u([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], alternative="greater")
    _, less = stats.mann_whitney_u([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], alternative="less")
    assert greater == pytest.approx(p / 2, abs=1e-4)
    assert less > 0.99


def test_u_of_identical_samples_finds_nothing() -> None:
    assert stats.mann_whitney_u([4.0] * 9, [4.0] * 9) == (40.5, 1.0)
    _, p = stats.mann_whitney_u([1, 2, 3, 4], [1, 2, 3, 4])
    assert p == pytest.approx(1.0)


def exact_greater(x: list[float], y: list[float]) -> float:
    """The exact one-sided p of U(x) by enumerating every split of the pooled values."""
    pooled = [*x, *y]
    observed, _ = stats.mann_whitney_u(x, y)
    splits = list(itertools.combinations(range(len(pooled)), len(x)))
    as_large = 0
    for chosen in splits:
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        u, _ = stats.mann_whitney_u([pooled[i] for i in chosen], rest)
        as_large += u >= observed
    return as_large / len(splits)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([3.1, 4.2, 5.0, 6.3, 7.7, 8.1, 9.4, 10.2], [1.0, 2.2, 2.9, 4.0, 4.8, 6.0, 7.0, 8.0]),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]),
        ([2.0, 2.0, 3.0, 3.0, 4.0, 9.0, 9.0, 9.0], [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 6.0, 7.0]),
    ],
)
def test_u_normal_approximation_is_close_to_the_exact_test(x: list[float], y: list[float]) -> None:
    _, p = stats.mann_whitney_u(x, y, alternative="greater")
    assert p == pytest.approx(exact_greater(x, y), abs=0.02)
