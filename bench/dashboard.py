"""The dashboard's benchmark figure: with N PipelineJobs present (default
5,000, their statuses written by the benchmark: no operator runs) and S
browsers' event streams open (default 50, each fetching its page's live part
on every change, as the page's script does), the dashboard's RSS and CPU per
second, and the time to first render of the jobs page. Printed, not asserted.

    .venv/bin/python -m bench.dashboard [--jobs 5000] [--streams 50] [--changes 300]
    make bench-dashboard

It starts its own control plane (--load-test) in a temporary directory and
stops it at the end, like bench/run.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

import aiohttp

from bench import infra, kube
from conveyor.k8s import api

NAMESPACE = "bench-dashboard"
STATES = ("SUCCESS", "SUCCESS", "SUCCESS", "FAILED", "RUNNING", "IN-QUEUE")
CHROMIUM = pathlib.Path("/usr/bin/chromium")


def stamp(seconds_ago: float) -> str:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds_ago)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(i: int) -> dict[str, Any]:
    state = STATES[i % len(STATES)]
    ago = 60 + (i * 17) % 80_000  # spread over the last day: the history charts fill
    status: dict[str, Any] = {"state": state, "worker": "build", "attempt": 1}
    if state == "IN-QUEUE":
        return {**status, "reason": "ConcurrencyLimit", "message": "all slots busy", "attempt": 0}
    status |= {"queuedAt": stamp(ago + 5), "startedAt": stamp(ago)}
    if state == "RUNNING":
        return {**status, "reason": "Running"}
    return {
        **status,
        "finishedAt": stamp(ago - 30 - i % 50),
        "reason": "Succeeded" if state == "SUCCESS" else "PodFailed",
    }


async def fill(c: api.Client, *, jobs: int) -> float:
    started = time.monotonic()
    await kube.create_namespace(c, NAMESPACE)
    await c.create(api.WORKERS, namespace=NAMESPACE, body=kube.worker("build", concurrency=0))
    names = [f"pj-{i:05}" for i in range(jobs)]
    await kube.create_all(
        c,
        api.PIPELINEJOBS,
        namespace=NAMESPACE,
        bodies=[kube.pipelinejob(n, worker="build") for n in names],
    )
    semaphore = asyncio.Semaphore(50)

    async def patch(i: int, name: str) -> None:
        async with semaphore:
            await c.patch_status(
                api.PIPELINEJOBS, namespace=NAMESPACE, name=name, patch={"status": status_of(i)}
            )

    await asyncio.gather(*(patch(i, n) for i, n in enumerate(names)))
    return time.monotonic() - started


class Dashboard:
    def __init__(self, *, kubeconfig: pathlib.Path, log: pathlib.Path) -> None:
        self.port = infra.free_port()
        args = [
            sys.executable,
            "-m",
            "conveyor.cli.main",
            "dashboard",
            "-A",
            "--port",
            str(self.port),
            "--kubeconfig",
            str(kubeconfig),
        ]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_live(self, *, jobs: int, timeout: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with (
                contextlib.suppress(OSError, ValueError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer,
            ):
                if json.loads(answer.read()).get("pipelinejobs") == "live":
                    return time.monotonic() - started
            time.sleep(0.2)
        raise infra.BenchError("the dashboard did not come up")

    def sample(self) -> tuple[float, int]:
        return infra.cpu_seconds(self.process.pid), infra.rss_bytes(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def render_times(url: str, *, tries: int = 5) -> list[float]:
    """Seconds to fetch the whole jobs page (server render), several times."""
    out = []
    async with aiohttp.ClientSession() as s:
        for _ in range(tries):
            started = time.monotonic()
            async with s.get(f"{url}/jobs") as answer:
                await answer.read()
            out.append(time.monotonic() - started)
    return out


async def browser_paint(url: str) -> float | None:
    """First contentful paint of /jobs in headless Chromium, when it is installed."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():  # noqa: ASYNC240 (one stat, before the browser starts)
        return None
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        page = await browser.new_page()
        await page.goto(f"{url}/jobs", wait_until="load")
        paint = await page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        await browser.close()
    return float(paint) / 1000 if paint is not None else None


async def browser_stream(url: str, *, counts: list[int], index: int) -> None:
    """What one open page does: hold /events, fetch the live part on each change."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(timeout=timeout) as s, s.get(f"{url}/events") as stream:
        async for line in stream.content:
            if line.startswith(b"event: change"):
                async with s.get(f"{url}/jobs", headers={"X-Fragment": "1"}) as part:
                    await part.read()
                counts[index] += 1


async def churn(c: api.Client, *, changes: int, per_second: float) -> float:
    started = time.monotonic()
    for i in range(changes):
        await c.patch_status(
            api.PIPELINEJOBS,
            namespace=NAMESPACE,
            name=f"pj-{i:05}",
            patch={"status": status_of(i + 1)},
        )
        await asyncio.sleep(max(started + (i + 1) / per_second - time.monotonic(), 0))
    return time.monotonic() - started


async def measure(args: argparse.Namespace, cluster: infra.Cluster, work: pathlib.Path) -> None:
    info = kube.connection(cluster.kubeconfig)
    async with kube.client(info) as c:
        took = await fill(c, jobs=args.jobs)
        infra.log(f"{args.jobs} PipelineJobs with statuses in {took:.0f}s")
        dash = Dashboard(kubeconfig=cluster.kubeconfig, log=work / "dashboard.log")
        try:
            synced = dash.wait_live(jobs=args.jobs)
            cpu0, rss_idle = dash.sample()
            renders = await render_times(dash.url)
            paint = await browser_paint(dash.url)
            counts = [0] * args.streams
            streams = [
                asyncio.create_task(browser_stream(dash.url, counts=counts, index=i))
                for i in range(args.streams)
            ]
            await asyncio.sleep(2)
            cpu1, _ = dash.sample()
            wall = await churn(c, changes=args.changes, per_second=args.rate)
            await asyncio.sleep(2)
            cpu2, rss_busy = dash.sample()
            for task in streams:
                task.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
        finally:
            dash.stop()
    print(f"\n== dashboard with {args.jobs} PipelineJobs and {args.streams} open streams")
    rows = [
        ("first listing synced", f"{synced:.1f} s"),
        ("RSS, idle", f"{rss_idle / 2**20:.0f} MiB"),
        ("RSS, after the churn", f"{rss_busy / 2**20:.0f} MiB"),
        ("jobs page, first render (server)", f"{renders[0] * 1000:.0f} ms"),
        (
            "jobs page, median of the next",
            f"{sorted(renders[1:])[len(renders[1:]) // 2] * 1000:.0f} ms",
        ),
        (
            "jobs page, first contentful paint (Chromium)",
            f"{paint * 1000:.0f} ms" if paint else "-",
        ),
        ("CPU while idle with the streams open", f"{(cpu1 - cpu0) / 2:.1%} of a core"),
        (
            f"CPU during {args.changes} changes at {args.rate:g}/s",
            f"{(cpu2 - cpu1) / (wall + 2):.1%} of a core",
        ),
        ("changes took", f"{wall:.1f} s"),
        ("change messages per stream (min/max)", f"{min(counts)}/{max(counts)}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="status changes per second")
    args = parser.parse_args(argv)
    work = pathlib.Path(tempfile.mkdtemp(prefix="conveyor-bench-dashboard-"))
    cluster = infra.Cluster(state_dir=work / "cluster")
    try:
        infra.log(f"control plane up in {cluster.up():.0f}s")
        cluster.install_crds()
        asyncio.run(measure(args, cluster, work))
    finally:
        infra.run_cleanups()
    if not os.environ.get("CONVEYOR_BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
