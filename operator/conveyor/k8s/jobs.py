"""The batch/v1 Job of an attempt: its manifest and its creation.

Creation is idempotent: the name is deterministic (`<pipelinejob>-<attempt>`),
so AlreadyExists means the Job was created before (by an earlier try or
before a restart) and is adopted, never made twice.
"""

from __future__ import annotations

from typing import Any

from conveyor.core import model, render
from conveyor.k8s import api


def manifest(*, job: model.PipelineJob, worker: model.Worker) -> dict[str, Any] | model.SpecError:
    """The Job to create for the job's current attempt, or why there is none.

    Renders in the calling thread; `with_owner(await rendering.Renderer.render(...))`
    is the same with a time and memory budget, off the event loop.
    """
    return with_owner(
        job=job, body=render.attempt_manifest(job=job, worker=worker, attempt=job.status.attempt)
    )


def with_owner(
    *, job: model.PipelineJob, body: dict[str, Any] | model.SpecError
) -> dict[str, Any] | model.SpecError:
    """The rendered Job, owned by its PipelineJob (so deleting that deletes it)."""
    if isinstance(body, model.SpecError):
        return body
    body.setdefault("metadata", {})["ownerReferences"] = [
        api.owner_reference(kind="PipelineJob", name=job.meta.name, uid=job.meta.uid)
    ]
    return body


async def create(
    *, client: api.Client, namespace: str, body: dict[str, Any]
) -> tuple[dict[str, Any], bool] | model.SpecError:
    """Create the Job, or adopt it if it exists. Returns (Job, created); a
    SpecError when the API server refuses the manifest (a bad podTemplate)."""
    try:
        return await client.create(api.JOBS, namespace=namespace, body=body), True
    except api.ApiError as exc:
        if exc.already_exists:
            name = body["metadata"]["name"]
            return await client.get(api.JOBS, namespace=namespace, name=name), False
        if exc.status in (400, 422):
            return model.SpecError(field="spec.podTemplate", message=exc.message)
        raise
