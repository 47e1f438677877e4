"""Helpers for the pipeline end-to-end tests: runs and steps built small,
waiting for a run's state, and a watcher counting active Jobs per run and
per step at every moment (the ground truth for parallelism and maxParallel)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from e2e.tests import kube
from tests import builders

FINISHED = ("SUCCESS", "FAILED", "REVOKED")


def step(
    name: str,
    *,
    run_time: str = "1s",
    exit_code: int | None = None,
    message: str | None = None,
    depends_on: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A step whose job is a simulated custom job (`fields`: forEach, when, ...)."""
    job = (
        builders.pipelinejob(name)
        .sim(run_time=run_time, exit_code=exit_code, message=message)
        .obj()
    )
    out: dict[str, Any] = {"name": name, "job": job["spec"], **fields}
    if depends_on:
        out["dependsOn"] = depends_on
    return out


def run(
    name: str,
    *,
    steps: list[dict[str, Any]],
    finally_: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body_spec: dict[str, Any] = {"steps": steps, **spec}
    if finally_:
        body_spec["finally"] = finally_
    return {
        "apiVersion": "conveyor.dev/v1alpha1",
        "kind": "PipelineRun",
        "metadata": {"name": name},
        "spec": body_spec,
    }


async def wait_run(
    k: kube.Kube, name: str, *states: str, reason: str | None = None, timeout: float = 90
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body = await k.get(kube.PR, name)
        st = body.get("status") or {}
        if st.get("state") in states and (reason is None or st.get("reason") == reason):
            return body
        return None

    try:
        found: dict[str, Any] = await k.wait_for(f"run {name} {states}", probe, timeout=timeout)
    except AssertionError:
        body = await k.get(kube.PR, name)
        status = dict(body.get("status") or {})
        status.pop("pipelineSpec", None)
        raise AssertionError(f"{name} never reached {states}: {json.dumps(status)}") from None
    return found


def steps_of(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in (body.get("status") or {}).get("steps") or ()}


async def children(k: kube.Kube, run_name: str) -> dict[str, dict[str, Any]]:
    items = await k.list(kube.PJ, labelSelector=f"conveyor.dev/pipelinerun={run_name}")
    return {i["metadata"]["name"]: i for i in items}


class RunWatcher(kube.JobWatcher):
    """Also counts active Jobs per run and per (run, step), at every event.
    A Job `<child>-<attempt>` belongs to the child PipelineJob named by its
    label; `owner_of(child)` says the child's (run, step)."""

    def __init__(self, *, owner_of: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.owner_of = owner_of
        self.by_group: dict[str, set[str]] = {}
        self.max_by_group: dict[str, int] = {}

    def _record(self, event_type: str, job: Mapping[str, Any]) -> None:
        super()._record(event_type, job)
        md = job["metadata"]
        child = (md.get("labels") or {}).get("conveyor.dev/pipelinejob", "")
        run_name, step_name = self.owner_of(child)
        worker = (md.get("labels") or {}).get("conveyor.dev/worker", "")
        active = md["name"] in self.active.get(worker, set())
        for group in (run_name, f"{run_name}/{step_name}"):
            names = self.by_group.setdefault(group, set())
            if active:
                names.add(md["name"])
            else:
                names.discard(md["name"])
            self.max_by_group[group] = max(self.max_by_group.get(group, 0), len(names))
