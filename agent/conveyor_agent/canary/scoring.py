"""Scoring, pure: one metric's verdict, an interval's score, the analysis' result.

A metric compares the mean of the canary's points with the baseline's: the
deviation is (canary - baseline) / |baseline| in percent. It fails when the
deviation goes beyond `threshold` in its `direction`, the direction that is
bad: `increase` (errors, latency: the canary may not be higher), `decrease`
(throughput: it may not be lower) or `either`. Where both variants have
stats.MIN_POINTS points, the difference must also be significant (a
Mann-Whitney U test at ALPHA, one-sided in the metric's direction): a
deviation that noise explains is not a failure.

A metric without data (no points, or only NaN) is not scored. The result:
- fail: a critical metric failed in any interval, or the mean score of the
  intervals is below passScore;
- inconclusive: no interval had any data, or a critical metric never had any;
- pass: otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from conveyor_agent.canary import stats

ALPHA = 0.05

Result = Literal["pass", "fail", "nodata"]
Conclusion = Literal["pass", "fail", "inconclusive"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Metric:
    name: str
    query: str
    direction: Literal["increase", "decrease", "either"] = "either"
    threshold: float = 10.0  # percent
    critical: bool = False

    @classmethod
    def from_params(cls, data: Mapping[str, Any]) -> Metric:
        return cls(
            name=str(data["name"]),
            query=str(data["query"]),
            direction=data.get("direction") or "either",
            threshold=float(data.get("threshold", 10.0)),
            critical=bool(data.get("critical", False)),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    metric: str
    result: Result
    baseline: float | None = None  # mean of the points
    canary: float | None = None
    deviation: float | None = None  # percent; +/-inf when the baseline is 0
    p_value: float | None = None  # None: too few points for the test
    points: tuple[int, int] = (0, 0)  # (baseline, canary)


def finite(points: Sequence[float]) -> list[float]:
    return [p for p in points if math.isfinite(p)]


def deviation(*, baseline: float, canary: float) -> float:
    """Percent change from baseline to canary; from a zero baseline any change is infinite."""
    if baseline == 0:
        return 0.0 if canary == 0 else math.copysign(math.inf, canary)
    return (canary - baseline) / abs(baseline) * 100


def judge(*, metric: Metric, baseline: Sequence[float], canary: Sequence[float]) -> Verdict:
    """The verdict on one metric for one interval's points."""
    base, can = finite(baseline), finite(canary)
    counts = (len(base), len(can))
    if not base or not can:
        return Verdict(metric=metric.name, result="nodata", points=counts)
    base_mean, can_mean = sum(base) / len(base), sum(can) / len(can)
    change = deviation(baseline=base_mean, canary=can_mean)
    beyond = {
        "increase": change > metric.threshold,
        "decrease": -change > metric.threshold,
    }.get(metric.direction, abs(change) > metric.threshold)
    p_value = None
    if min(counts) >= stats.MIN_POINTS:
        alternative: stats.Alternative = {
            "increase": "greater",
            "decrease": "less",
        }.get(metric.direction, "two-sided")  # type: ignore[assignment]
        _, p_value = stats.mann_whitney_u(can, base, alternative=alternative)
    failed = beyond and (p_value is None or p_value < ALPHA)
    return Verdict(
        metric=metric.name,
        result="fail" if failed else "pass",
        baseline=base_mean,
        canary=can_mean,
        deviation=change,
        p_value=p_value,
        points=counts,
    )


def score(verdicts: Sequence[Verdict]) -> float | None:
    """Percent of the scored metrics that passed; None when none had data."""
    scored = [v for v in verdicts if v.result != "nodata"]
    if not scored:
        return None
    return 100.0 * sum(v.result == "pass" for v in scored) / len(scored)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Analysis:
    result: Conclusion
    score: float | None
    failed: list[str]  # metrics that failed in some interval
    critical_failed: list[str]
    no_data: list[str]  # metrics that never had data
    reason: str


def conclude(
    *, intervals: Sequence[Sequence[Verdict]], metrics: Sequence[Metric], pass_score: float
) -> Analysis:
    """The analysis' result from the verdicts of every interval so far."""
    failed = sorted({v.metric for vs in intervals for v in vs if v.result == "fail"})
    critical = {m.name for m in metrics if m.critical}
    seen = {v.metric for vs in intervals for v in vs if v.result != "nodata"}
    no_data = [m.name for m in metrics if m.name not in seen]
    scores = [s for s in (score(vs) for vs in intervals) if s is not None]
    mean = sum(scores) / len(scores) if scores else None
    critical_failed = [name for name in failed if name in critical]

    def analysis(result: Conclusion, reason: str) -> Analysis:
        return Analysis(
            result=result,
            score=None if mean is None else round(mean, 1),
            failed=failed,
            critical_failed=critical_failed,
            no_data=no_data,
            reason=reason,
        )

    if critical_failed:
        return analysis("fail", f"critical metric failed: {', '.join(critical_failed)}")
    if mean is None:
        return analysis("inconclusive", "no metric returned data")
    missing = [name for name in no_data if name in critical]
    if missing:
        return analysis("inconclusive", f"critical metric without data: {', '.join(missing)}")
    if mean < pass_score:
        return analysis("fail", f"score {mean:.1f} is below passScore {pass_score:g}")
    return analysis("pass", f"score {mean:.1f} reaches passScore {pass_score:g}")
