"""`conveyor rerun NAME`: a new PipelineJob from a finished one's spec (a
PipelineRun's: rerun_run, with --from-failed to resume from it).

The original is never changed (a GitOps tool may own it); the copy is labelled
`conveyor.dev/rerun-of: NAME` so reruns can be found."""

from __future__ import annotations

import argparse
import copy
from collections.abc import Mapping
from typing import Any

from conveyor import API_GROUP, API_VERSION
from conveyor.cli import completion, context, errors, fetch, rerun_run, why_run
from conveyor.core import model
from conveyor.k8s import api

RERUN_OF = "conveyor.dev/rerun-of"
# Labels that tie an object to a GitOps application: a copy must not carry
# them, or the tool would prune it as its own drift.
OWNED_LABEL_PREFIXES = (
    "app.kubernetes.io/instance",
    "argocd.argoproj.io/",
    "kustomize.toolkit.fluxcd.io/",
    "helm.toolkit.fluxcd.io/",
)
# Kubernetes names are at most 253 characters, but each attempt's Job is named
# `<name>-<attempt>` and must fit a 63-character label value.
MAX_NAME = 55
MAX_LABEL_VALUE = 63
ATTEMPTS_TO_NAME = 20


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "rerun", help="create a new PipelineJob from a finished one's spec"
    )
    parser.add_argument(
        "name", metavar="NAME", help="the finished PipelineJob, or PipelineRun (pr/NAME)"
    ).completer = completion.pipelinejobs  # type: ignore[attr-defined]
    parser.add_argument("--name", dest="new_name", metavar="NEW", help="name of the new job")
    parser.add_argument(
        "--from-failed",
        action="store_true",
        help="a PipelineRun: resume from it, running only the steps that did not succeed",
    )
    context.add_options(parser)
    parser.set_defaults(
        run=lambda args: context.run(
            args,
            lambda ctx: _rerun(
                ctx, name=args.name, new_name=args.new_name, from_failed=args.from_failed
            ),
        )
    )


def manifest(*, original: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    """The new PipelineJob: the original's spec without revoke, its own labels
    (minus GitOps ownership) plus rerun-of; `name` None: generateName."""
    md = original.get("metadata") or {}
    source = str(md.get("name") or "")
    spec = copy.deepcopy(dict(original.get("spec") or {}))
    spec.pop("revoke", None)
    labels = {
        k: v
        for k, v in (md.get("labels") or {}).items()
        if not any(k.startswith(prefix) for prefix in OWNED_LABEL_PREFIXES)
    }
    metadata: dict[str, Any] = {"labels": labels}
    if len(source) <= MAX_LABEL_VALUE:
        labels[RERUN_OF] = source
    else:
        metadata["annotations"] = {RERUN_OF: source}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = f"{source[: MAX_NAME - 6]}-"
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "PipelineJob",
        "metadata": metadata,
        "spec": spec,
    }


def default_names(*, name: str, existing: set[str]) -> list[str]:
    """Names to try, `<name>-rerun-<n>` from the first free n; none when too long."""
    taken = [
        int(other.rsplit("-", 1)[1])
        for other in existing
        if other.startswith(f"{name}-rerun-") and other.rsplit("-", 1)[1].isdigit()
    ]
    first = max(taken, default=0) + 1
    names = [f"{name}-rerun-{n}" for n in range(first, first + ATTEMPTS_TO_NAME)]
    return [n for n in names if len(n) <= MAX_NAME]


async def _rerun(
    ctx: context.Context, *, name: str, new_name: str | None, from_failed: bool = False
) -> int:
    run = why_run.run_name(name)
    if run is None and (from_failed or not await _is_job(ctx, name)):
        run = name if await why_run.exists(ctx, name) else None
        if run is None and from_failed:
            raise errors.not_found(kind="pipelinerun", name=name, namespace=ctx.namespace)
    if run is not None:
        return await rerun_run.rerun(
            ctx, name=run, new_name=new_name, from_failed=from_failed, build=manifest
        )
    ns = ctx.namespace
    original = await fetch.pipelinejob(ctx.client, namespace=ns, name=name)
    state = model.parse_pipelinejob(original).status.state
    if state is None or not state.finished:
        raise errors.CliError(
            f"pipelinejob {name} is {state or 'not started'}, not finished: only a finished "
            f"job can be rerun (wait for it, or revoke it first: conveyor revoke {name})"
        )
    if new_name:
        candidates: list[str | None] = [new_name]
    else:
        listed = await fetch.items(ctx.client, api.PIPELINEJOBS, namespace=ns)
        existing = {str((j.get("metadata") or {}).get("name")) for j in listed}
        candidates = list(default_names(name=name, existing=existing)) or [None]
    for candidate in candidates:
        body = manifest(original=original, name=candidate)
        try:
            created = await ctx.client.create(api.PIPELINEJOBS, namespace=ns, body=body)
        except api.ApiError as exc:
            if exc.already_exists and not new_name:
                continue  # someone took that name: try the next
            if exc.already_exists:
                raise errors.CliError(f"pipelinejob {new_name} already exists in {ns}") from None
            if exc.status == 422:
                raise errors.CliError(f"the new job was refused: {exc.message}") from None
            raise
        created_name = (created.get("metadata") or {}).get("name")
        print(f"pipelinejob.conveyor.dev/{created_name} created (rerun of {name})")
        return 0
    raise errors.CliError(f"no free name for a rerun of {name}; use --name")


async def _is_job(ctx: context.Context, name: str) -> bool:
    try:
        await ctx.client.get(api.PIPELINEJOBS, namespace=ctx.namespace, name=name)
    except api.ApiError as exc:
        if exc.not_found:
            return False
        raise
    return True
