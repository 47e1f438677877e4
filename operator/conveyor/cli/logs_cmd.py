"""`conveyor logs NAME [--attempt N] [-f]`: the pod logs of one attempt."""

from __future__ import annotations

import argparse
import codecs
import sys
from collections.abc import Mapping
from typing import Any

import aiohttp

from conveyor.cli import completion, context, errors, fetch
from conveyor.core import model, observe
from conveyor.k8s import api
from conveyor.presentation import pods as pod_text


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "logs", help="print the pod logs of a PipelineJob's attempt"
    )
    parser.add_argument(
        "name", metavar="NAME", help="the PipelineJob"
    ).completer = completion.pipelinejobs  # type: ignore[attr-defined]
    parser.add_argument(
        "--attempt", type=int, metavar="N", help="which attempt (default: the current one)"
    )
    parser.add_argument("-f", "--follow", action="store_true", help="stream the logs")
    context.add_options(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    async def command(ctx: context.Context) -> int:
        return await _logs(ctx, name=args.name, attempt=args.attempt, follow=args.follow)

    return context.run(args, command, on_interrupt=0 if args.follow else 130)


def job_of_attempt(*, body: Mapping[str, Any], attempt: int | None) -> tuple[int, str]:
    """The attempt number and its batch/v1 Job name; CliError when there is none."""
    job = model.parse_pipelinejob(body)
    status = job.status
    name = job.meta.name
    if job.spec is not None and model.WORKER_TYPE_OF[job.spec.type] is None:
        raise errors.CliError(f"{name} is a {job.spec.type} job: it runs no pod, so has no logs")
    if not status.attempt:
        where = f" ({status.state}: {status.reason})" if status.state else ""
        raise errors.CliError(f"{name} has not started an attempt yet{where}")
    number = status.attempt if attempt is None else attempt
    if not 1 <= number <= status.attempt:
        raise errors.CliError(f"{name} has no attempt {number}; it has had {status.attempt}")
    recorded = {a.attempt: a.job for a in status.attempts if a.job}
    if number == status.attempt and status.job:
        return number, status.job
    return number, recorded.get(number, f"{name}-{number}")


async def _logs(ctx: context.Context, *, name: str, attempt: int | None, follow: bool) -> int:
    ns = ctx.namespace
    body = await fetch.pipelinejob(ctx.client, namespace=ns, name=name)
    number, job = job_of_attempt(body=body, attempt=attempt)
    pods = await fetch.pods_of_job(ctx.client, namespace=ns, job=job)
    pod = observe.latest_pod(pods)
    if pod is None:
        raise errors.CliError(
            f"no pod left for attempt {number} of {name} (Job {job}): "
            "it was deleted with its Job, or not created yet"
        )
    pod_name = str((pod.get("metadata") or {}).get("name"))
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Pending":
        raise errors.CliError(
            f"pod {pod_name} has not started yet (conveyor why {name} -n {ns} says why)"
        )
    path = api.PODS.path(namespace=ns, name=pod_name, sub="log")
    params = {"container": pod_text.container_of(pod)}
    try:
        if follow:
            await _follow(ctx.client, path=path, params=params)
        else:
            sys.stdout.write(await ctx.client.text(path, params=params))
            sys.stdout.flush()
    except api.ApiError as exc:
        if exc.not_found:
            raise errors.CliError(f"pod {pod_name} is gone: {exc.message}") from None
        if exc.status in (401, 403):
            raise
        raise errors.CliError(pod_text.unreadable(pod=pod, message=exc.message)) from None
    return 0


async def _follow(client: api.Client, *, path: str, params: Mapping[str, str]) -> None:
    """Stream the log as it is written, until the container ends (or Ctrl-C)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        async with client.stream(path, params={**params, "follow": "true"}) as response:
            async for chunk in response.content.iter_any():
                sys.stdout.write(decoder.decode(chunk))
                sys.stdout.flush()
    except aiohttp.ClientError as exc:
        raise api.ApiError(status=0, reason="ConnectionError", message=str(exc)) from exc
    sys.stdout.write(decoder.decode(b"", final=True))
