"""`conveyor revoke NAME`: ask the operator to revoke a PipelineJob (spec.revoke).

The user acting on their own object: a merge patch of spec.revoke, which the
operator turns into REVOKED (stopping a running Job)."""

from __future__ import annotations

import argparse
from typing import Any

from conveyor.cli import completion, context, errors, fetch
from conveyor.core import model
from conveyor.k8s import api


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "revoke", help="revoke a PipelineJob: it will not start, or its running Job is stopped"
    )
    parser.add_argument(
        "name", metavar="NAME", help="the PipelineJob"
    ).completer = completion.pipelinejobs  # type: ignore[attr-defined]
    context.add_options(parser)
    parser.set_defaults(
        run=lambda args: context.run(args, lambda ctx: _revoke(ctx, name=args.name))
    )


async def _revoke(ctx: context.Context, *, name: str) -> int:
    ns = ctx.namespace
    job = model.parse_pipelinejob(await fetch.pipelinejob(ctx.client, namespace=ns, name=name))
    state = job.status.state
    if state is not None and state.finished:
        raise errors.CliError(
            f"pipelinejob {name} is already finished ({state}): nothing to revoke"
        )
    if job.spec is not None and job.spec.revoke:
        print(f"pipelinejob.conveyor.dev/{name} already revoked (spec.revoke is set)")
        return 0
    try:
        await ctx.client.request(
            "PATCH",
            api.PIPELINEJOBS.path(namespace=ns, name=name),
            body={"spec": {"revoke": True}},
            content_type=api.MERGE_PATCH,
        )
    except api.ApiError as exc:
        if exc.not_found:
            raise errors.not_found(kind="pipelinejob", name=name, namespace=ns) from None
        raise
    print(f"pipelinejob.conveyor.dev/{name} revoked")
    return 0
