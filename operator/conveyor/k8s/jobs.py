"""The batch/v1 Job of an attempt: its manifest and its creation.

Creation is idempotent: the name is deterministic (`<pipelinejob>-<attempt>`),
so AlreadyExists means the Job was created before (by an earlier try or
before a restart) and is adopted, never made twice.
"""

from __future__ import annotations

from typing import Any

from conveyor.core import model
from conveyor.k8s import api


def with_owner(
    *, job: model.PipelineJob, body: dict[str, Any] | model.SpecError
) -> dict[str, Any] | model.SpecError:
    """The rendered Job, owned by its PipelineJob (so deleting that deletes it).
    Rendering itself is off the loop: controllers/renders.py, k8s/rendering.py."""
    if isinstance(body, model.SpecError):
        return body
    body.setdefault("metadata", {})["ownerReferences"] = [
        api.owner_reference(kind="PipelineJob", name=job.meta.name, uid=job.meta.uid)
    ]
    return body


async def create(
    *, client: api.Client, namespace: str, body: dict[str, Any], blame: str
) -> tuple[dict[str, Any], bool] | model.SpecError:
    """Create the Job, or adopt it if it exists. Returns (Job, created); a
    SpecError on `blame` when the API server refuses the manifest."""
    try:
        return await client.create(api.JOBS, namespace=namespace, body=body), True
    except api.ApiError as exc:
        if exc.already_exists:
            name = body["metadata"]["name"]
            return await client.get(api.JOBS, namespace=namespace, name=name), False
        if exc.status in (400, 422):
            return model.SpecError(field=blame, message=exc.message)
        raise


MAX_EVENT_MESSAGE = 1024  # characters of a FailedCreate Event kept for a job's message


async def failed_create(*, client: api.Client, namespace: str, name: str) -> str | None:
    """What the latest FailedCreate Event of Job `name` says, if any: a Job's
    status has no condition for a pod it cannot create (Pod Security refused
    it, its ServiceAccount is missing). One list, filtered by the API server."""
    selector = f"involvedObject.kind=Job,involvedObject.name={name},reason=FailedCreate"
    answer = await client.list(api.EVENTS, namespace=namespace, fieldSelector=selector)
    found = [
        e
        for e in answer.get("items") or ()
        if isinstance(e, dict)
        and e.get("reason") == "FailedCreate"
        and (e.get("involvedObject") or {}).get("name") == name
    ]
    if not found:
        return None
    latest = max(found, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return str(latest.get("message") or "FailedCreate")[:MAX_EVENT_MESSAGE]
