"""`conveyor rerun RUN [--from-failed]`: a new PipelineRun from a finished
one's spec; with --from-failed it resumes from it (`spec.resumeFrom`), so the
steps that succeeded are not run again and their outputs are reused."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conveyor.cli import context, errors, runs_cmd
from conveyor.k8s import api

# rerun_cmd.manifest: the copy's metadata and spec, as for a PipelineJob.
Build = Callable[..., dict[str, Any]]
FINISHED = ("SUCCESS", "FAILED", "REVOKED")


def manifest(
    *, original: Mapping[str, Any], name: str | None, from_failed: bool, build: Build
) -> dict[str, Any]:
    body = build(original=original, name=name)
    body["kind"] = "PipelineRun"
    body["spec"].pop("resumeFrom", None)
    if from_failed:
        body["spec"]["resumeFrom"] = original["metadata"]["name"]
    return body


async def rerun(
    ctx: context.Context, *, name: str, new_name: str | None, from_failed: bool, build: Build
) -> int:
    ns = ctx.namespace
    original = await runs_cmd.pipelinerun(ctx.client, namespace=ns, name=name)
    state = (original.get("status") or {}).get("state")
    if state not in FINISHED:
        raise errors.CliError(
            f"pipelinerun {name} is {state or 'not started'}, not finished: only a finished "
            "run can be rerun"
        )
    body = manifest(original=original, name=new_name, from_failed=from_failed, build=build)
    if not new_name:
        body["metadata"].pop("generateName", None)
        body["metadata"]["generateName"] = f"{name[:40]}-rerun-"
    try:
        created = await ctx.client.create(api.PIPELINERUNS, namespace=ns, body=body)
    except api.ApiError as exc:
        if exc.already_exists or exc.status == 422:
            raise errors.CliError(f"the new run was refused: {exc.message}") from None
        raise
    how = "resuming from" if from_failed else "rerun of"
    print(f"pipelinerun.conveyor.dev/{created['metadata']['name']} created ({how} {name})")
    return 0
