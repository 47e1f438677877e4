"""`conveyor why NAME`: why a PipelineJob is where it is, and what to do."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from conveyor.cli import completion, context, fetch, formats, output
from conveyor.k8s import api
from conveyor.presentation import diagnosis


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "why", help="diagnose one PipelineJob: why it waits or failed, and what to do"
    )
    parser.add_argument(
        "name", metavar="NAME", help="the PipelineJob"
    ).completer = completion.pipelinejobs  # type: ignore[attr-defined]
    context.add_options(parser, formats_allowed=formats.DOCUMENT)
    parser.set_defaults(run=lambda args: context.run(args, lambda ctx: _why(ctx, name=args.name)))


async def _why(ctx: context.Context, *, name: str) -> int:
    ns = ctx.namespace
    job = await fetch.pipelinejob(ctx.client, namespace=ns, name=name)
    current = (job.get("status") or {}).get("job")

    async def pods() -> list[dict[str, Any]]:
        if not current:
            return []
        return await fetch.pods_of_job(ctx.client, namespace=ns, job=str(current))

    async def events() -> list[dict[str, Any]]:
        try:
            return await fetch.events_of(ctx.client, namespace=ns, name=name)
        except api.ApiError as exc:
            if exc.status == 403:  # events are a bonus: say so, carry on
                print(f"warning: cannot read events: {exc.message}", file=sys.stderr)
                return []
            raise

    jobs, workers, pod_list, event_list = await asyncio.gather(
        fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ns),
        fetch.items(ctx.client, api.WORKERS, namespace=ns),
        pods(),
        events(),
    )
    result = diagnosis.diagnose(
        job=job, jobs=jobs, workers=workers, pods=pod_list, events=event_list, now=ctx.now()
    )
    if ctx.output.kind == "jsonpath":
        assert ctx.output.template is not None
        sys.stdout.write(ctx.output.template.render(result.to_dict()))
    elif not ctx.output.table:
        print(output.dump(result.to_dict(), fmt=ctx.output.kind))
    else:
        print("\n".join(render(result, colour=output.wants_colour(sys.stdout))))
    return 0


def render(result: diagnosis.Diagnosis, *, colour: bool) -> list[str]:
    """The diagnosis as text: a headline, facts, events, then what to do."""

    def tint(text: str, name: str | None) -> str:
        return output.paint(text, name) if colour else text

    state = tint(result.state, output.STATE_COLOURS.get(result.state))
    reason = f" ({result.reason})" if result.reason else ""
    lines = [f"pipelinejob {result.namespace}/{result.name}: {state}{reason}", result.summary]
    if result.facts:
        lines.append("")
        width = max(len(f.label) for f in result.facts) + 1
        for fact in result.facts:
            label = f"{fact.label}:".ljust(width)
            warn = "yellow" if fact.level is diagnosis.Level.WARNING else None
            lines.append(f"  {label}  {tint(fact.text, warn)}")
    if result.events:
        lines += ["", "Events (oldest first):"]
        cells = [
            [e.age, e.type, e.reason, e.message + (f" (x{e.count})" if e.count > 1 else "")]
            for e in result.events
        ]
        table = output.table(headers=["AGE", "TYPE", "REASON", "MESSAGE"], rows=cells)
        lines += [f"  {line}" for line in table]
    if result.actions:
        lines += ["", "What you can do:"]
        for action in result.actions:
            first, *rest = action.split("\n")
            lines.append(f"  - {first}")
            lines += [f"      {more}" for more in rest]
    return lines
