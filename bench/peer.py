"""The peer scenario: Kueue admits the baseline's N Jobs, C at a time.

Measured as the drain is: from the first create request to the receipt of
the last finished Job, with Kueue's own process in place of the operator
(CPU from /proc, writes from its own client's request counter) and the
Event objects its components reported in the namespace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from bench import common, infra, kube, kueue
from conveyor.k8s import api

METRICS_READER = "kueue-bench-metrics"


class Slots:
    """Per Job: first seen, finished; and how many were admitted (not
    suspended) and not yet finished at once, at most."""

    def __init__(self) -> None:
        self.jobs = common.Jobs(by_label=False)
        self.running: set[str] = set()
        self.most = 0

    def __call__(self, kind: str, obj: dict[str, Any], received: float) -> None:
        self.jobs(kind, obj, received)
        name = kube.name_of(obj)
        suspended = bool((obj.get("spec") or {}).get("suspend"))
        if kind == "DELETED" or suspended or name in self.jobs.finished:
            self.running.discard(name)
        else:
            self.running.add(name)
            self.most = max(self.most, len(self.running))

    def progress(self) -> str:
        return (
            f"{len(self.jobs.seen)} created, {len(self.running)} running, "
            f"{len(self.jobs.finished)} finished (at most {self.most} running)"
        )


async def _create(b: common.Bench, path: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return await b.client.request("POST", path, body=body)
    except api.ApiError as exc:
        if not exc.already_exists:
            raise
        return {}


async def _metrics_token(b: common.Bench) -> str:
    """A ServiceAccount token allowed GET /metrics: Kueue's metrics endpoint
    authenticates and authorizes every scrape against the API server."""
    await _create(
        b,
        "/api/v1/namespaces/default/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": METRICS_READER}},
    )
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    await _create(
        b,
        f"{rbac}/clusterroles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": METRICS_READER},
            "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
        },
    )
    await _create(
        b,
        f"{rbac}/clusterrolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": METRICS_READER},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": METRICS_READER,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": METRICS_READER, "namespace": "default"}
            ],
        },
    )
    answer = await b.client.request(
        "POST",
        f"/api/v1/namespaces/default/serviceaccounts/{METRICS_READER}/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 86400},
        },
    )
    return str(answer["status"]["token"])


async def _prepare(b: common.Bench) -> str:
    """Once per control plane: Kueue's CRDs and a metrics token."""
    if "kueue_token" not in b.prepared:
        crds = str(kueue.crd_dir(b.kueue_version))
        await asyncio.to_thread(b.cluster.kubectl, "apply", "--server-side", "-f", crds)
        await asyncio.to_thread(
            b.cluster.kubectl, "wait", "--for=condition=Established", "--timeout=60s", "-f", crds
        )
        b.prepared["kueue_token"] = await _metrics_token(b)
    return str(b.prepared["kueue_token"])


async def _wait_active(b: common.Bench, *, name: str, namespace: str, timeout: float = 60) -> None:
    base = f"/apis/{kueue.GROUP_VERSION}"
    paths = (f"{base}/clusterqueues/{name}", f"{base}/namespaces/{namespace}/localqueues/{name}")
    deadline = time.monotonic() + timeout
    for path in paths:
        while True:
            body = await b.client.request("GET", path)
            if kueue.active((body.get("status") or {}).get("conditions") or (), "Active"):
                break
            if time.monotonic() > deadline:
                raise infra.BenchError(f"{path} not Active after {timeout}s: {body.get('status')}")
            await asyncio.sleep(0.2)


async def scenario(
    b: common.Bench, *, namespace: str, settings: kueue.Settings = kueue.SHIPPED
) -> dict[str, Any]:
    token = await _prepare(b)
    await kube.create_namespace(b.client, namespace)
    for path, body in kueue.queue_objects(
        name=namespace, namespace=namespace, slots=b.sizes.drain_concurrency
    ):
        await b.client.request("POST", path, body=body)
    work = b.log_dir / namespace
    work.mkdir(parents=True, exist_ok=True)
    process = kueue.Kueue(
        settings=settings, kubeconfig=b.cluster.kubeconfig, work=work, token=token
    )
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready)
        await _wait_active(b, name=namespace, namespace=namespace)
        # Its start-up (lists, the earlier scenarios' Jobs) is not the drain's.
        await asyncio.to_thread(infra.settle, process)
        return await _drain(b, process, namespace=namespace)
    finally:
        process.stop()


def configured(settings: kueue.Settings) -> common.Scenario:
    async def run(b: common.Bench, *, namespace: str) -> dict[str, Any]:
        return await scenario(b, namespace=namespace, settings=settings)

    return run


async def _drain(b: common.Bench, process: kueue.Kueue, *, namespace: str) -> dict[str, Any]:
    n, concurrency = b.sizes.drain_jobs, b.sizes.drain_concurrency
    bodies = [
        kueue.queued(kube.plain_job(f"kq-{i:05d}", run_time=b.sizes.run_time), queue=namespace)
        for i in range(n)
    ]
    slots = Slots()
    meter = infra.CpuMeter(operator=process, cluster=b.cluster, label="kueue")
    timeline: list[dict[str, float]] = []
    async with kube.Watcher(
        info=b.info, resource=api.JOBS, namespace=namespace, handler=slots
    ) as watcher:
        before = kueue.server_writes(await asyncio.to_thread(_apiserver_metrics, b))
        meter.start()
        started = time.monotonic()
        sampler = asyncio.create_task(_timeline(slots, started=started, into=timeline))
        await kube.create_all(b.client, api.JOBS, namespace=namespace, bodies=bodies)
        created = time.monotonic()
        await kube.wait_until(
            f"{n} Jobs queued in Kueue to finish",
            lambda: len(slots.jobs.finished) >= n,
            timeout=120 + n * 0.5,
            watchers=[watcher],
            progress=slots.progress,
        )
        sampler.cancel()
        ended = max(slots.jobs.finished.values())
        await _wait_released(b, namespace=namespace, jobs=n)
        await asyncio.sleep(common.SETTLE_SECONDS)
        cpu = meter.stop()
        after = kueue.server_writes(await asyncio.to_thread(_apiserver_metrics, b))
        rss = process.rss()
    events = await common.events_by_component(b.client, namespace)
    own_events = sum(v for k, v in events.items() if kueue.COMPONENT_MARK in k)
    by_kind = kueue.kueue_writes(before, after)
    writes = sum(by_kind.values())
    seconds = ended - started
    return {
        "jobs": n,
        "concurrency": concurrency,
        "settings": dataclasses.asdict(process.settings),
        "create_seconds": round(created - started, 3),
        "seconds": round(seconds, 3),
        "jobs_per_second": round(n / seconds, 2),
        "failed": len(slots.jobs.failed),
        "most_running": slots.most,
        "writes": {k: round(v / n, 3) for k, v in by_kind.items()},
        "writes_all_per_job": round((writes + own_events) / n, 3),
        "writes_but_events_per_job": round(writes / n, 3),
        "events": events,
        "events_per_job": round(own_events / n, 3),
        "cpu": cpu,
        "controller_cpu_per_1000_jobs": round(cpu.get("kueue", 0.0) / n * 1000, 2),
        "rss_after": rss,
        "timeline": timeline,
    }


def _apiserver_metrics(b: common.Bench) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The API server's /metrics (controller-runtime 0.23, which Kueue v0.17
    is built on, no longer exports client-go's request counter)."""
    return infra.parse_metrics(b.cluster.kubectl("get", "--raw", "/metrics"))


async def _wait_released(b: common.Bench, *, namespace: str, jobs: int) -> None:
    """Until Kueue has taken its finalizer off every Workload: its last write
    per job, and the namespace could not be deleted without it once Kueue is
    stopped. Watched only now, so the drain pays for no extra watch."""
    held: dict[str, bool] = {}

    def on_workload(kind: str, obj: dict[str, Any], received: float) -> None:
        name = kube.name_of(obj)
        finalizers = (obj.get("metadata") or {}).get("finalizers") or ()
        held[name] = kind != "DELETED" and kueue.FINALIZER in finalizers

    async with kube.Watcher(
        info=b.info, resource=kueue.WORKLOADS, namespace=namespace, handler=on_workload
    ) as watcher:
        await kube.wait_until(
            "Kueue to release its Workloads",
            lambda: len(held) >= jobs and not any(held.values()),
            timeout=60 + jobs * 0.05,
            watchers=[watcher],
            progress=lambda: f"{sum(held.values())} of {len(held)} Workloads still held",
        )


async def _timeline(
    slots: Slots, *, started: float, into: list[dict[str, float]], every: float = 5.0
) -> None:
    """Every few seconds: Jobs running (admitted, not finished) and finished."""
    while True:
        await asyncio.sleep(every)
        into.append(
            {
                "t": round(time.monotonic() - started, 1),
                "running": len(slots.running),
                "finished": len(slots.jobs.finished),
            }
        )
