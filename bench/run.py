"""Conveyor's benchmark: one command, a table, a JSON file.

    .venv/bin/python -m bench.run            # full: 3 runs, 2,000-job drain (make bench)
    .venv/bin/python -m bench.run --quick    # 1 run, smaller sizes, about 5 min (make bench-quick)

Starts its own local control plane (`conveyor-cluster up --load-test`) in a
temporary directory, installs the CRDs, runs `conveyor operator` as its own
process, generates load and watches from this process, and always stops what
it started. See docs/performance.md for the method.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import pathlib
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import (
    baseline,
    common,
    compare,
    drain,
    kube,
    kueue,
    latency,
    memory,
    peer,
    pipelines,
    report,
    scale,
)
from bench.infra import ROOT, BenchError, Cluster, Operator, log, run_cleanups

FULL = common.Sizes(
    drain_jobs=2000,
    drain_concurrency=100,
    run_time="1s",
    latency_rate=20,
    latency_seconds=30,
    memory_stages=(1000, 10000),
    cold_queued=1000,
    cold_concurrency=100,
)
QUICK = common.Sizes(
    drain_jobs=300,
    drain_concurrency=50,
    run_time="1s",
    latency_rate=10,
    latency_seconds=10,
    memory_stages=(1000,),
    cold_queued=100,
    cold_concurrency=50,
    pipeline_runs=10,
)

Scenario = Callable[..., Awaitable[dict[str, Any]]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, smaller sizes (~5 minutes)")
    parser.add_argument("--runs", type=int, default=None, help="runs (default: 3, quick: 1)")
    parser.add_argument(
        "--results", type=pathlib.Path, default=ROOT / "bench" / "results", help="JSON goes here"
    )
    parser.add_argument("--drain-jobs", type=int, help="override the drain's job count")
    parser.add_argument("--concurrency", type=int, help="override the drain's concurrency")
    parser.add_argument(
        "--only",
        default="baseline,kueue,drain,latency,pipelines,memory,scale",
        help="comma-separated scenarios to run (default: all; `kueue` is kueue-shipped and "
        "kueue-tuned)",
    )
    parser.add_argument(
        "--no-kueue", action="store_true", help="skip the peer scenario (Kueue, both settings)"
    )
    parser.add_argument(
        "--kueue-version",
        default=kueue.DEFAULT_VERSION,
        help="the version `make kueue-bin` built (its CRDs are read from the Go module cache)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the work directory (logs) afterwards"
    )
    parser.add_argument(
        "--profile",
        type=pathlib.Path,
        help="run the operator under cProfile, writing PROFILE.1, PROFILE.2, ... (one per start)",
    )
    return parser.parse_args(argv)


async def quiesce(b: common.Bench, *, limit: float = 0.35, timeout: float = 60) -> None:
    """Wait until the operator and the control plane are near idle (below
    `limit` CPU-seconds per second together), so a scenario does not pay for
    the previous one's clean-up."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        meter = b.cpu_meter()
        meter.start()
        await asyncio.sleep(1.0)
        used = meter.stop()
        busy = sum(
            v for k, v in used.items() if not k.startswith(("machine", "bench", "wall", "other"))
        )
        if busy < limit:
            return
    log(f"  the cluster did not go quiet within {timeout:.0f}s; going on")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """One scenario in the order of a run. `operator`: whether Conveyor's
    operator is stopped during it, running (started if it is not), or left
    to the scenario (`own`). A step that runs `alone` first has the earlier
    steps' namespaces deleted. `group` selects several steps at once."""

    name: str
    run: common.Scenario
    operator: str
    group: str = ""
    alone: bool = False
    last_run_only: bool = False


async def scaled(b: common.Bench, *, namespace: str) -> dict[str, Any]:
    quick = b.sizes.memory_stages == QUICK.memory_stages
    return await scale.scenario(b, namespace=namespace, sizes=scale.QUICK if quick else scale.FULL)


# The order of one run. A scenario is a module with `async def scenario(b, *,
# namespace) -> dict`; add it here (and its figures in report.py).
STEPS = (
    # 2. The baseline first, with no operator running at all. Its Jobs carry no
    # Conveyor label: the operator never sees them, so they can stay.
    Step(name="baseline", run=baseline.scenario, operator="stopped"),
    # 8. The peer: Kueue admits the same Jobs (the operator stopped, as above).
    Step(
        name="kueue-shipped", run=peer.configured(kueue.SHIPPED), operator="stopped", group="kueue"
    ),
    Step(name="kueue-tuned", run=peer.configured(kueue.TUNED), operator="stopped", group="kueue"),
    # 1, 4, 5 (CPU) on a fresh operator, then 3 with the drain's finished
    # objects still present, then 7.
    Step(name="drain", run=drain.scenario, operator="running"),
    Step(name="latency", run=latency.scenario, operator="running"),
    Step(name="pipelines", run=pipelines.scenario, operator="running"),
    # 5 (memory) and 6 need a cluster without the other scenarios' objects;
    # the scenario restarts the operator itself.
    Step(name="memory", run=memory.scenario, operator="own", alone=True),
    # 9 (scale): once, in the last run, alone on the cluster (it creates up to
    # 50,000 objects; one pass of that is enough for a growth table).
    Step(name="scale", run=scaled, operator="own", alone=True, last_run_only=True),
)


def selected(only: set[str]) -> list[Step]:
    return [s for s in STEPS if s.name in only or (s.group and s.group in only)]


async def step(b: common.Bench, run: dict[str, Any], s: Step, *, runs: int) -> None:
    """One scenario of one run in its own namespace; a failure is recorded, not raised."""
    index = run["run"]
    namespace = f"bench-{index}-{s.name}"
    log(f"run {index}/{runs}: {s.name}")
    if s.operator == "stopped":
        b.operator.stop()
    elif s.operator == "running" and not b.operator.alive():
        await b.restart_operator()
    await quiesce(b)
    started = time.monotonic()
    try:
        run[s.name] = await s.run(b, namespace=namespace)
        log(f"run {index}/{runs}: {s.name} done in {time.monotonic() - started:.0f}s")
    except Exception as exc:
        run["errors"][s.name] = f"{type(exc).__name__}: {exc}"
        log(f"run {index}/{runs}: {s.name} FAILED: {exc}")


async def delete_namespaces(b: common.Bench, names: list[str]) -> None:
    """Delete them in parallel and wait until all are gone (failures are logged)."""
    started = time.monotonic()
    done = await asyncio.gather(
        *(kube.delete_namespace(b.client, n) for n in names), return_exceptions=True
    )
    for name, outcome in zip(names, done, strict=True):
        if isinstance(outcome, BaseException):
            log(f"  could not delete namespace {name}: {outcome}")
    log(f"  namespaces deleted in {time.monotonic() - started:.0f}s: {', '.join(names)}")


async def run_all(
    b: common.Bench,
    *,
    runs: int,
    steps: list[Step],
    results: list[dict[str, Any]],
    ended: Callable[[], object],
) -> None:
    """Each run into `results`, and `ended()` after it: an interrupted
    benchmark keeps (and has written) the runs that finished."""
    for index in range(1, runs + 1):
        run: dict[str, Any] = {"run": index, "errors": {}}
        results.append(run)
        present: list[str] = []
        for s in steps:
            if s.last_run_only and index < runs:
                continue
            if s.alone and present:
                b.operator.stop()
                await delete_namespaces(b, [f"bench-{index}-{n}" for n in present])
                present = []
            await step(b, run, s, runs=runs)
            present.append(s.name)
        b.operator.stop()
        ended()
        if index < runs and present:
            await delete_namespaces(b, [f"bench-{index}-{n}" for n in present])


async def main_async(
    cluster: Cluster,
    operator: Operator,
    sizes: common.Sizes,
    *,
    runs: int,
    steps: list[Step],
    kueue_version: str,
    results: list[dict[str, Any]],
    ended: Callable[[], object],
) -> None:
    info = kube.connection(cluster.kubeconfig)
    async with kube.client(cluster.kubeconfig) as client:
        b = common.Bench(
            cluster=cluster,
            operator=operator,
            info=info,
            client=client,
            sizes=sizes,
            log_dir=operator.log_path.parent,
            kueue_version=kueue_version,
        )
        await run_all(b, runs=runs, steps=steps, results=results, ended=ended)


def _shown(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclasses.dataclass(kw_only=True)
class Outcome:
    """What the JSON file holds, written again after each run."""

    mode: str
    runs: int
    sizes: common.Sizes
    environment: dict[str, Any]
    path: pathlib.Path
    started: datetime.datetime
    clock: float = dataclasses.field(default_factory=time.monotonic)
    per_run: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    failure: str | None = None

    def write(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "mode": self.mode,
            "runs": self.runs,
            "started": self.started.isoformat(),
            "wall_seconds": round(time.monotonic() - self.clock, 1),
            "environment": self.environment,
            "sizes": dataclasses.asdict(self.sizes),
            "per_run": self.per_run,
            "failure": self.failure,
            "complete": len(self.per_run) == self.runs and self.failure is None,
        }
        result["summary"] = report.summarize(self.per_run, result["sizes"])
        result["cpu"] = {s: report.cpu_split(self.per_run, s) for s in report.CPU_SCENARIOS}
        result["peer"] = compare.summarize(self.per_run, self.sizes.drain_concurrency)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(result, indent=2) + "\n")
        return result


def outcome(args: argparse.Namespace, *, steps: list[Step]) -> Outcome:
    sizes = QUICK if args.quick else FULL
    if args.drain_jobs:
        sizes = dataclasses.replace(sizes, drain_jobs=args.drain_jobs)
    if args.concurrency:
        sizes = dataclasses.replace(sizes, drain_concurrency=args.concurrency)
    mode = "quick" if args.quick else "full"
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    environment = report.environment()
    if any(s.group == "kueue" for s in steps):
        environment["kueue"] = args.kueue_version
    return Outcome(
        mode=mode,
        runs=args.runs or (1 if args.quick else 3),
        sizes=sizes,
        environment=environment,
        started=started,
        path=args.results / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{mode}.json",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    steps = [s for s in selected(only) if not (args.no_kueue and s.group == "kueue")]
    out = outcome(args, steps=steps)
    signal.signal(signal.SIGTERM, _on_sigterm)
    work = pathlib.Path(tempfile.mkdtemp(prefix="conveyor-bench-"))
    cluster = Cluster(state_dir=work / "cluster")
    operator = Operator(
        kubeconfig=cluster.kubeconfig, log_path=work / "operator.log", profile=args.profile
    )
    try:
        log(f"{out.mode} benchmark, {out.runs} run(s); work directory {work}")
        log(f"control plane up in {cluster.up():.1f}s (--load-test)")
        cluster.install_crds()
        asyncio.run(
            main_async(
                cluster,
                operator,
                out.sizes,
                runs=out.runs,
                steps=steps,
                kueue_version=args.kueue_version,
                results=out.per_run,
                ended=out.write,
            )
        )
    except KeyboardInterrupt as exc:
        out.failure = f"interrupted ({exc or 'Ctrl-C'})"
    except BenchError as exc:
        out.failure = str(exc)
    finally:
        log("stopping the operator and the control plane")
        operator.stop()
        cluster.down()
        run_cleanups()
    return finish(out.write(), out=out, work=work, operator=operator, cluster=cluster, args=args)


def finish(
    result: dict[str, Any],
    *,
    out: Outcome,
    work: pathlib.Path,
    operator: Operator,
    cluster: Cluster,
    args: argparse.Namespace,
) -> int:
    print(report.table(result))
    print(f"\n(wall time {result['wall_seconds']:.0f}s; JSON: {_shown(out.path)})")
    errors = out.failure or any(run["errors"] for run in out.per_run)
    if out.failure:
        print(f"\nBENCHMARK FAILED: {out.failure}", file=sys.stderr)
    if errors or args.keep_logs:
        # The control plane's state is gone (its `down` keeps the logs); keep ours.
        print(f"logs kept: {operator.log_path}, {cluster.state_dir / 'logs'}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
