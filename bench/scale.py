"""Figure 9 (issue 20): cost that grows no faster than the work.

Two parts, one table each, with the growth factor per 10x:

1. Admission pass time by objects present and queue length, measured in
   this process on the shell itself (the controller on the fake API server
   of tests/k8s/fakes.py, the renderer in-process): N PipelineJobs, of
   which Q wait behind a Worker with concurrency 0, everything settled;
   then the namespace is marked and `Admission.round` timed in CPU time of
   this thread (other processes on a shared machine do not count), the
   median of `PASSES`. In-process because a pass is pure computation over the store
   (its writes are what the other figures count), and because on the real
   operator a pass's time cannot be told apart from the watch events and
   writes around it; the CPU is the same Python either way.
2. Operator RSS by objects present, on the real operator process against
   the local control plane: the objects are created in bulk (all REVOKED at
   once but the first `queued`, which wait behind the Worker), RSS read once
   the operator is idle ("steady"); then the operator is restarted with all
   of them present: time until its view is rebuilt (its `conveyor_jobs`
   metric counts them all), RSS then, the peak until it is idle, and RSS
   once idle ("steady after a cold start").

    make bench BENCH_ARGS=--only=scale          # full sizes: 1,000 / 10,000 / 50,000
    make bench-quick BENCH_ARGS=--only=scale    # 1,000 / 3,000
    .venv/bin/python -m bench.scale [--quick]   # part 1 alone, no cluster
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import itertools
import math
import statistics
import time
from collections.abc import Sequence
from typing import Any

from tests.k8s import fakes

from bench import kube
from bench.infra import BenchError, log
from conveyor.k8s import api
from tests import builders as b

PASSES = 7  # admission passes timed per cell (the median is shown)
WORKER = "hold"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sizes:
    objects: tuple[int, ...]  # PipelineJobs present
    queues: tuple[int, ...]  # of them, this many wait (in-process part)
    queued: int  # of the real operator's objects, this many wait
    parallel: int = 100  # create requests in flight


FULL = Sizes(objects=(1_000, 10_000, 50_000), queues=(100, 1_000, 10_000), queued=100)
QUICK = Sizes(objects=(1_000, 3_000), queues=(100, 1_000), queued=100)


# --- 1. admission pass time, in-process ------------------------------------------------


async def pass_time(*, objects: int, queue: int) -> float:
    """Median seconds of one admission pass over a namespace of `objects`
    PipelineJobs, `queue` of them waiting."""
    h = fakes.Harness()
    h.worker(WORKER, type="build", concurrency=0)
    for i in range(objects):
        job = b.pipelinejob(f"j-{i:05d}").type("build").worker(WORKER)
        if i >= queue:
            job = job.revoke().state("REVOKED").reason("Revoked")
        body = job.served()
        if i < queue:
            body.pop("status", None)
        h.api.put("pipelinejobs", body)
    await h.start()
    waiting = len(h.ctl.books.wants_in(fakes.NS))
    if waiting != queue:
        raise BenchError(f"{waiting} jobs wait for admission, not {queue}")
    times = []
    for _ in range(PASSES):
        h.ctl.queue.namespace(fakes.NS)
        now = h.ctl.clock.now()
        started = time.thread_time()
        h.ctl.admission.round(now=now)
        times.append(time.thread_time() - started)
        await h.settle()
    del h
    gc.collect()
    return statistics.median(times)


async def pass_times(sizes: Sizes) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in sizes.objects:
        for q in sizes.queues:
            if q <= n:
                out[f"pass_ms_{n}_{q}"] = round(await pass_time(objects=n, queue=q) * 1000, 3)
                log(f"  admission pass, {n} objects, {q} waiting: {out[f'pass_ms_{n}_{q}']} ms")
    return out


# --- 2. RSS and cold start, the real operator -------------------------------------------


def _known(samples: dict[str, list[tuple[dict[str, str], float]]], namespace: str) -> float:
    return sum(
        v for labels, v in samples.get("conveyor_jobs", ()) if labels["namespace"] == namespace
    )


async def _metrics(bench: Any) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The operator's /metrics; none while it is too busy to answer in time."""
    try:
        samples: dict[str, list[tuple[dict[str, str], float]]] = await asyncio.to_thread(
            bench.operator.metrics
        )
    except OSError:  # TimeoutError included: a loaded machine, not a failure
        return {}
    return samples


async def _until_known(bench: Any, namespace: str, total: int, *, timeout: float) -> float:
    """Until the operator's view counts `total` PipelineJobs in `namespace`;
    returns the monotonic time it first did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _known(await _metrics(bench), namespace) >= total:
            return time.monotonic()
        await asyncio.sleep(0.1)
    raise BenchError(f"the operator's view did not reach {total} PipelineJobs in {timeout:.0f}s")


async def _idle(bench: Any) -> tuple[int, float]:
    """Wait until the operator is idle; (peak RSS while waiting, seconds waited)."""
    started, peak = time.monotonic(), bench.operator.rss()
    task = asyncio.ensure_future(asyncio.to_thread(bench.operator.settle, timeout=120))
    while not task.done():
        peak = max(peak, bench.operator.rss())
        await asyncio.sleep(0.1)
    await task
    return peak, time.monotonic() - started


async def _cold_start(bench: Any, namespace: str, total: int) -> dict[str, float]:
    bench.operator.stop()
    started = bench.operator.start()
    await asyncio.to_thread(bench.operator.wait_ready)
    peak = 0
    deadline = started + 120 + total * 0.01
    view = None
    while view is None:
        if time.monotonic() > deadline:
            raise BenchError(f"cold start: no view of {total} PipelineJobs by the deadline")
        samples = await _metrics(bench)
        peak = max(peak, bench.operator.rss())
        if _known(samples, namespace) >= total:
            view = time.monotonic()
        else:
            await asyncio.sleep(0.1)
    at_view = bench.operator.rss()
    idle_peak, _ = await _idle(bench)
    return {
        "cold_view_s": round(view - started, 2),
        "cold_rss_at_view": at_view,
        "cold_rss_peak": max(peak, at_view, idle_peak),
        "cold_rss_steady": bench.operator.rss(),
    }


async def rss_stages(bench: Any, *, namespace: str, sizes: Sizes) -> dict[str, float]:
    out: dict[str, float] = {}
    await bench.restart_operator()
    out["rss_idle"] = bench.operator.rss()
    await kube.create_namespace(bench.client, namespace)
    worker = kube.worker(WORKER, concurrency=0)
    await bench.client.create(api.WORKERS, namespace=namespace, body=worker)
    present = 0
    for n in sizes.objects:
        if not bench.operator.alive():
            await bench.restart_operator()
        bodies = (
            kube.pipelinejob(f"s-{i:05d}", worker=WORKER, revoke=i >= sizes.queued)
            for i in range(present, n)
        )
        started = time.monotonic()
        await kube.create_all(
            bench.client,
            api.PIPELINEJOBS,
            namespace=namespace,
            bodies=bodies,
            parallel=sizes.parallel,
        )
        created = time.monotonic() - started
        await _until_known(bench, namespace, n, timeout=120 + (n - present) * 0.05)
        await _idle(bench)
        present = n
        out[f"rss_{n}"] = bench.operator.rss()
        out[f"create_s_{n}"] = round(created, 1)
        cold = await _cold_start(bench, namespace, n)
        out |= {f"{k}_{n}": v for k, v in cold.items()}
        log(
            f"  {n} PipelineJobs (created in {created:.0f}s): RSS {_mib(out[f'rss_{n}'])}; "
            f"cold start: view in {cold['cold_view_s']}s, RSS {_mib(cold['cold_rss_at_view'])} "
            f"then, peak {_mib(cold['cold_rss_peak'])}, "
            f"steady {_mib(cold['cold_rss_steady'])}"
        )
    return out


# --- the scenario and its tables ---------------------------------------------------------


async def scenario(bench: Any, *, namespace: str, sizes: Sizes = FULL) -> dict[str, Any]:
    result: dict[str, Any] = {"sizes": dataclasses.asdict(sizes)}
    log("  admission pass time, in-process (fake API server)")
    result |= await pass_times(sizes)
    log("  operator RSS and cold start, real operator")
    result |= await rss_stages(bench, namespace=namespace, sizes=sizes)
    for line in table(result, sizes).splitlines():
        log(line)
    return result


def _mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


def per_10x(small: float, large: float, *, n_small: int, n_large: int) -> float | None:
    """The growth factor from `small` to `large`, scaled to a 10x step
    (1.0: flat, 10.0: linear)."""
    if small <= 0 or large <= 0 or n_large <= n_small:
        return None
    return float((large / small) ** (math.log(10) / math.log(n_large / n_small)))


def _growth(values: Sequence[tuple[int, float]]) -> str:
    factors = [
        per_10x(a, b_, n_small=na, n_large=nb) for (na, a), (nb, b_) in itertools.pairwise(values)
    ]
    return ", ".join("-" if f is None else f"{f:.2f}x" for f in factors) or "-"


def table(result: dict[str, Any], sizes: Sizes) -> str:
    """The two tables, as markdown."""
    lines = ["", f"Admission pass CPU time (ms, median of {PASSES}) by objects and queue"]
    header = ["objects \\ waiting", *(f"{q:,}" for q in sizes.queues), "growth per 10x queue"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for n in sizes.objects:
        cells = [(q, result.get(f"pass_ms_{n}_{q}")) for q in sizes.queues]
        shown = ["-" if v is None else f"{v:.2f}" for _, v in cells]
        growth = _growth([(q, v) for q, v in cells if v is not None])
        lines.append(f"| {n:,} | " + " | ".join(shown) + f" | {growth} |")
    growth_row = []
    for q in sizes.queues:
        cells = [(n, result.get(f"pass_ms_{n}_{q}")) for n in sizes.objects]
        growth_row.append(_growth([(n, v) for n, v in cells if v is not None]))
    lines.append("| growth per 10x objects | " + " | ".join(growth_row) + " | |")
    if "rss_idle" not in result:
        return "\n".join(lines)
    lines += ["", f"Operator RSS (MiB) by objects present ({sizes.queued} of them waiting)"]
    cols = ["steady", "cold: view rebuilt (s)", "cold: at view", "cold: peak", "cold: steady"]
    lines += ["| objects | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    idle = result.get("rss_idle", 0)
    for n in sizes.objects:
        if f"rss_{n}" not in result:
            continue
        row = [
            _mib(result[f"rss_{n}"]).removesuffix(" MiB"),
            f"{result[f'cold_view_s_{n}']}",
            _mib(result[f"cold_rss_at_view_{n}"]).removesuffix(" MiB"),
            _mib(result[f"cold_rss_peak_{n}"]).removesuffix(" MiB"),
            _mib(result[f"cold_rss_steady_{n}"]).removesuffix(" MiB"),
        ]
        lines.append(f"| {n:,} | " + " | ".join(row) + " |")
    above = [(n, result[f"rss_{n}"] - idle) for n in sizes.objects if f"rss_{n}" in result]
    lines.append(f"| idle | {_mib(idle)} | growth per 10x objects, above idle: {_growth(above)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Part 1 alone (no cluster): the admission pass table."""
    parser = argparse.ArgumentParser(prog="bench.scale", description=main.__doc__)
    parser.add_argument("--quick", action="store_true", help="the quick sizes")
    sizes = QUICK if parser.parse_args(argv).quick else FULL
    result = asyncio.run(pass_times(sizes))
    print(table(result, sizes))


if __name__ == "__main__":
    main()
