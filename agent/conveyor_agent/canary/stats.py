"""The Mann-Whitney U test (as Kayenta's classifier uses), pure and small.

The normal approximation with the tie correction and a continuity
correction: what scipy.stats.mannwhitneyu(method="asymptotic") computes.
It is sound from about 8 points per sample, which is why the scoring uses it
only where both samples have MIN_POINTS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

MIN_POINTS = 8

Alternative = Literal["two-sided", "greater", "less"]


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            result[order[position]] = shared
        start = end + 1
    return result


def mann_whitney_u(
    x: Sequence[float], y: Sequence[float], *, alternative: Alternative = "two-sided"
) -> tuple[float, float]:
    """(U of x, p-value) for H0: x and y come from the same distribution.

    "greater": the alternative that x tends to be larger than y.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    all_ranks = ranks([*x, *y])
    u1 = sum(all_ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    ties = _tie_counts([*x, *y])
    variance = n1 * n2 / 12 * ((n + 1) - sum(t**3 - t for t in ties) / (n * (n - 1)))
    if variance <= 0:  # every value equal: no evidence of any difference
        return u1, 1.0
    sigma = math.sqrt(variance)
    mean = n1 * n2 / 2
    if alternative == "greater":
        p = _upper_tail((u1 - mean - 0.5) / sigma)
    elif alternative == "less":
        p = _upper_tail((mean - u1 - 0.5) / sigma)
    else:
        p = min(1.0, 2 * _upper_tail((abs(u1 - mean) - 0.5) / sigma))
    return u1, p


def _upper_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _tie_counts(values: Sequence[float]) -> list[int]:
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return [c for c in counts.values() if c > 1]
