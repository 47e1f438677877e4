"""`conveyor why RUN`: which step holds a PipelineRun, and why, in the words
of that step's own PipelineJob diagnosis."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from conveyor.cli import context, errors, output, runs_cmd, runs_view
from conveyor.k8s import api

PREFIXES = ("pr/", "run/", "pipelinerun/", "pipelineruns/")

Explain = Callable[[context.Context, str], Awaitable[int]]


def run_name(name: str) -> str | None:
    """The run named by `pr/NAME` (or run/, pipelinerun/); None for a plain name."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


async def exists(ctx: context.Context, name: str) -> bool:
    try:
        await ctx.client.get(api.PIPELINERUNS, namespace=ctx.namespace, name=name)
    except api.ApiError as exc:
        if exc.not_found:
            return False
        raise
    return True


async def why(ctx: context.Context, *, name: str, explain: Explain) -> int:
    """The run's headline, the holding step, then `explain` of its PipelineJob."""
    body = await runs_cmd.pipelinerun(ctx.client, namespace=ctx.namespace, name=name)
    status = body.get("status") or {}
    hold = runs_view.holding(body)
    if not ctx.output.table:
        data = {
            "pipelinerun": name,
            "namespace": ctx.namespace,
            "state": status.get("state"),
            "reason": status.get("reason"),
            "message": status.get("message"),
            "step": hold.step if hold else None,
            "stepState": hold.state if hold else None,
            "pipelinejob": hold.child if hold else None,
        }
        if ctx.output.kind == "jsonpath":
            assert ctx.output.template is not None
            sys.stdout.write(ctx.output.template.render(data))
        else:
            print(output.dump(data, fmt=ctx.output.kind))
        return 0
    reason = f" ({status['reason']})" if status.get("reason") else ""
    print(f"pipelinerun {ctx.namespace}/{name}: {status.get('state') or 'not started'}{reason}")
    if status.get("message"):
        print(status["message"])
    if hold is None:
        done = status.get("state") == "SUCCESS"
        print("every step is done" if done else "no step holds it (the operator decides next)")
        return 0
    detail = f": {hold.message}" if hold.message else ""
    print(f"\nheld by step {hold.step} ({hold.state}){detail}")
    if hold.child is None:
        return 0
    print(f"its pipelinejob {hold.child}:\n")
    try:
        return await explain(ctx, hold.child)
    except errors.CliError as exc:  # the child was deleted since
        print(f"  ({exc})")
        return 0
