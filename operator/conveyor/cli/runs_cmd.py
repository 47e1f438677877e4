"""The PipelineRun commands' shared reads and `conveyor get runs`."""

from __future__ import annotations

import sys
from typing import Any

from conveyor.cli import context, errors, fetch, formats, output, runs_view
from conveyor.k8s import api

# What `conveyor get KIND` accepts for runs (kubectl's names and short name).
RUN_KINDS = frozenset({"runs", "run", "pr", "pipelinerun", "pipelineruns"})
JOB_KINDS = frozenset({"jobs", "job", "pj", "pipelinejob", "pipelinejobs"})


async def pipelinerun(client: api.Client, *, namespace: str, name: str) -> dict[str, Any]:
    try:
        return await client.get(api.PIPELINERUNS, namespace=namespace, name=name)
    except api.ApiError as exc:
        if exc.not_found:
            raise errors.not_found(kind="pipelinerun", name=name, namespace=namespace) from None
        raise


async def get_runs(ctx: context.Context) -> int:
    """`conveyor get runs`: one row per PipelineRun, with its steps done and definition."""
    found = await fetch.items(ctx.client, api.PIPELINERUNS, namespace=ctx.scope)
    found.sort(
        key=lambda b: ((b.get("metadata") or {}).get("namespace", ""), b["metadata"]["name"])
    )
    if not ctx.output.table:
        compact = [{**b, "status": _without_spec(b.get("status") or {})} for b in found]
        text = formats.render(ctx.output, objects=compact, single=False, no_headers=False)
        sys.stdout.write(text)
        return 0
    if not found:
        where = "any namespace" if ctx.all_namespaces else f"namespace {ctx.namespace}"
        print(f"No PipelineRuns found in {where}.", file=sys.stderr)
        return 0
    heads = runs_view.headers(all_namespaces=ctx.all_namespaces)
    cells = [runs_view.row(b, now=ctx.now(), all_namespaces=ctx.all_namespaces) for b in found]
    painter = output.state_painter("STATE") if output.wants_colour(sys.stdout) else None
    print("\n".join(output.table(headers=heads, rows=cells, painter=painter)))
    return 0


def _without_spec(status: dict[str, Any]) -> dict[str, Any]:
    """The recorded definition is long; `kubectl get pr -o yaml` shows it."""
    return {k: v for k, v in status.items() if k != "pipelineSpec"}
