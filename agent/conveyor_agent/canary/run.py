"""The canary-analysis job: every `interval` for `duration`, query each metric
for baseline and canary over the interval just past, judge, score; stop early
when a critical metric fails. Exit 0 on pass, 1 on fail or inconclusive.

Outputs: {"result", "score", "reason", "failed", "noData", "intervals",
"metrics": [{"name", "result", "baseline", "canary", "deviation", "pValue"}]}
(the metrics' evidence from the last interval they had data in).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conveyor_agent import errors, params
from conveyor_agent.canary import providers, scoring

# Points per interval asked of range queries: enough for the U test.
POINTS_PER_INTERVAL = 12


def main(
    job_params: Mapping[str, Any],
    *,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    provider: providers.Provider | None = None,
) -> dict[str, Any]:
    metrics = [scoring.Metric.from_params(m) for m in params.required(job_params, "metrics")]
    interval = params.seconds(job_params.get("interval") or "1m")
    duration = params.seconds(params.required(job_params, "duration"))
    pass_score = float(job_params.get("passScore", 95.0))
    source = provider or providers.from_params(job_params, environ=environ)
    variants = {
        "baseline": str(params.required(job_params, "baseline")),
        "canary": str(params.required(job_params, "canary")),
    }
    namespace = environ.get("NAMESPACE", "")
    step = max(1.0, interval / POINTS_PER_INTERVAL)
    started = clock()
    intervals: list[list[scoring.Verdict]] = []
    for number in range(1, max(1, int(duration // interval)) + 1):
        end = started + number * interval
        sleep(max(0.0, end - clock()))
        window = {"start": end - interval, "end": end, "namespace": namespace}
        verdicts = [
            _judge(metric, source=source, variants=variants, window=window, step=step)
            for metric in metrics
        ]
        intervals.append(verdicts)
        _log(number, verdicts)
        if any(v.result == "fail" and m.critical for v, m in zip(verdicts, metrics, strict=True)):
            break
    analysis = scoring.conclude(intervals=intervals, metrics=metrics, pass_score=pass_score)
    outputs = _outputs(analysis, intervals=intervals)
    if analysis.result != "pass":
        raise errors.CheckFailed(f"canary {analysis.result}: {analysis.reason}", outputs=outputs)
    return outputs


def expand(query: str, values: Mapping[str, Any]) -> str:
    """$variant, $namespace, $start and $end (also as ${name}) replaced in a query."""
    for name, value in values.items():
        text = f"{value:.0f}" if isinstance(value, float) else str(value)
        query = query.replace("${" + name + "}", text).replace("$" + name, text)
    return query


def _judge(
    metric: scoring.Metric,
    *,
    source: providers.Provider,
    variants: Mapping[str, str],
    window: Mapping[str, Any],
    step: float,
) -> scoring.Verdict:
    points = {
        role: source.points(
            query=expand(metric.query, {"variant": name, **window}),
            start=window["start"],
            end=window["end"],
            step=step,
        )
        for role, name in variants.items()
    }
    return scoring.judge(metric=metric, baseline=points["baseline"], canary=points["canary"])


def _log(number: int, verdicts: Sequence[scoring.Verdict]) -> None:
    for v in verdicts:
        shown = "-" if v.deviation is None else f"{v.deviation:+.1f}%"
        print(
            f"interval {number}: {v.metric}: {v.result} baseline={v.baseline} "
            f"canary={v.canary} deviation={shown} p={v.p_value} points={v.points}",
            flush=True,
        )
    print(f"interval {number}: score {scoring.score(verdicts)}", flush=True)


def _outputs(
    analysis: scoring.Analysis, *, intervals: Sequence[Sequence[scoring.Verdict]]
) -> dict[str, Any]:
    latest: dict[str, scoring.Verdict] = {}
    for verdicts in intervals:
        for v in verdicts:
            if v.result != "nodata" or v.metric not in latest:
                latest[v.metric] = v
    failed = set(analysis.failed)
    evidence = [
        {
            "name": v.metric,
            "result": "fail" if v.metric in failed else v.result,
            "baseline": _round(v.baseline),
            "canary": _round(v.canary),
            "deviation": _round(v.deviation),
            "pValue": _round(v.p_value, 4),
        }
        for v in latest.values()
    ]
    return {
        "result": analysis.result,
        "score": analysis.score,
        "reason": analysis.reason,
        "failed": analysis.failed,
        "noData": analysis.no_data,
        "intervals": len(intervals),
        "metrics": evidence,
    }


def _round(value: float | None, digits: int = 3) -> float | str | None:
    """JSON has no infinity: a deviation from a zero baseline is written "+inf"/"-inf"."""
    if value is None:
        return None
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return round(value, digits)
