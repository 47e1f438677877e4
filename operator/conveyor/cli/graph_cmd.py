"""`conveyor graph RUN`: a PipelineRun's DAG with each step's state."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conveyor.cli import context, output, runs_cmd, runs_view


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "graph", help="print a PipelineRun's steps as a graph, with each step's state"
    )
    parser.add_argument("name", metavar="RUN", help="the PipelineRun")
    context.add_options(parser)
    parser.set_defaults(run=lambda args: context.run(args, lambda ctx: _graph(ctx, name=args.name)))


async def _graph(ctx: context.Context, *, name: str) -> int:
    body = await runs_cmd.pipelinerun(ctx.client, namespace=ctx.namespace, name=name)
    lines = runs_view.graph(body)
    if output.wants_colour(sys.stdout):
        lines = [_tint(line) for line in lines]
    print("\n".join(lines))
    return 0


def _tint(line: str) -> str:
    for state, colour in output.STATE_COLOURS.items():
        if f"  {state}" in line:
            return line.replace(f"  {state}", f"  {output.paint(state, colour)}", 1)
    return line
