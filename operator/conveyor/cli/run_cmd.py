"""`conveyor run PIPELINE -p key=value`: start a PipelineRun of a Pipeline."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from conveyor import API_GROUP, API_VERSION
from conveyor.cli import context, errors
from conveyor.k8s import api


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run", help="start a PipelineRun of a Pipeline, with params"
    )
    parser.add_argument("pipeline", metavar="PIPELINE", help="the Pipeline to run")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a param (repeatable); VALUE is YAML: -p platforms='[linux/amd64]'",
    )
    parser.add_argument("--name", help="the run's name (default: PIPELINE-<random>)")
    parser.add_argument("--priority", type=int, help="default priority of its steps")
    parser.add_argument("--parallelism", type=int, help="at most this many steps' jobs at once")
    parser.add_argument("--timeout", help="the whole run's timeout, e.g. 2h")
    context.add_options(parser)
    parser.set_defaults(run=lambda args: context.run(args, lambda ctx: _run(ctx, args=args)))


def params(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; a value is read as YAML (a list, a number), a string if it is not."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise errors.CliError(f"-p {pair!r}: expected KEY=VALUE")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        out[key] = raw if value is None else value
    return out


def manifest(
    *,
    pipeline: str,
    name: str | None,
    values: dict[str, Any],
    priority: int | None = None,
    parallelism: int | None = None,
    timeout: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"pipelineRef": {"name": pipeline}, "params": values}
    for key, value in (("priority", priority), ("parallelism", parallelism), ("timeout", timeout)):
        if value is not None:
            spec[key] = value
    metadata: dict[str, Any] = {"name": name} if name else {"generateName": f"{pipeline[:40]}-"}
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "PipelineRun",
        "metadata": metadata,
        "spec": spec,
    }


async def _run(ctx: context.Context, *, args: argparse.Namespace) -> int:
    ns = ctx.namespace
    try:
        await ctx.client.get(api.PIPELINES, namespace=ns, name=args.pipeline)
    except api.ApiError as exc:
        if exc.not_found:
            raise errors.not_found(kind="pipeline", name=args.pipeline, namespace=ns) from None
        raise
    body = manifest(
        pipeline=args.pipeline,
        name=args.name,
        values=params(args.param),
        priority=args.priority,
        parallelism=args.parallelism,
        timeout=args.timeout,
    )
    try:
        created = await ctx.client.create(api.PIPELINERUNS, namespace=ns, body=body)
    except api.ApiError as exc:
        if exc.status == 422 or exc.already_exists:
            raise errors.CliError(f"the run was refused: {exc.message}") from None
        raise
    print(f"pipelinerun.conveyor.dev/{created['metadata']['name']} created")
    return 0
