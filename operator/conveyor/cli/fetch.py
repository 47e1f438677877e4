"""The reads the commands share, with the errors a user can act on."""

from __future__ import annotations

from typing import Any

from conveyor.cli import errors
from conveyor.k8s import api

KINDS = {
    api.PIPELINEJOBS: "PipelineJob",
    api.WORKERS: "Worker",
    api.PIPELINETRIGGERS: "PipelineTrigger",
}
LABEL_JOB_NAME = "batch.kubernetes.io/job-name"


async def items(
    client: api.Client, resource: api.Resource, *, namespace: str | None, **params: str
) -> list[dict[str, Any]]:
    """All objects of a kind in a namespace (None: all namespaces)."""
    try:
        listing = await client.list(resource, namespace=namespace, **params)
    except api.ApiError as exc:
        if exc.not_found and resource in KINDS:
            raise errors.CliError(
                f"this cluster has no {KINDS[resource]} API ({resource.group}/{resource.version}): "
                "install Conveyor's CRDs (kubectl apply -f crds/)"
            ) from None
        raise
    return list(listing.get("items") or [])


async def pipelinejob(client: api.Client, *, namespace: str, name: str) -> dict[str, Any]:
    try:
        return await client.get(api.PIPELINEJOBS, namespace=namespace, name=name)
    except api.ApiError as exc:
        if exc.not_found:
            raise errors.not_found(kind="pipelinejob", name=name, namespace=namespace) from None
        raise


async def pods_of_job(client: api.Client, *, namespace: str, job: str) -> list[dict[str, Any]]:
    """The pods the Job controller made for a batch/v1 Job."""
    return await items(
        client, api.PODS, namespace=namespace, labelSelector=f"{LABEL_JOB_NAME}={job}"
    )


async def events_of(client: api.Client, *, namespace: str, name: str) -> list[dict[str, Any]]:
    """Events about objects of this name in the namespace (core/v1 Events)."""
    return await items(
        client, api.EVENTS, namespace=namespace, fieldSelector=f"involvedObject.name={name}"
    )
