"""The receiver's API calls: all it may do, and no more (see the chart's RBAC).

It reads PipelineTriggers and the one key of a Secret a trigger names,
creates the PipelineJobs and PipelineRuns its triggers describe, lists those
by the trigger's label, revokes (spec.revoke) only objects a trigger owns,
and writes PipelineTrigger status.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from conveyor import API_GROUP, API_VERSION
from conveyor.k8s import api

PIPELINETRIGGERS = api.PIPELINETRIGGERS
PIPELINERUNS = api.Resource(group=API_GROUP, version=API_VERSION, plural="pipelineruns")
SECRETS = api.Resource(group="", version="v1", plural="secrets")
RESOURCE_OF_KIND = {"PipelineJob": api.PIPELINEJOBS, "PipelineRun": PIPELINERUNS}


class Cluster:
    def __init__(self, *, client: api.Client) -> None:
        self.client = client

    async def trigger(self, *, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.client.get(PIPELINETRIGGERS, namespace=namespace, name=name)
        except api.ApiError as exc:
            if exc.not_found:
                return None
            raise

    async def secret_value(self, *, namespace: str, name: str, key: str) -> bytes | None:
        """The key's bytes, or None if the Secret or key is missing."""
        try:
            secret = await self.client.get(SECRETS, namespace=namespace, name=name)
        except api.ApiError as exc:
            if exc.not_found or exc.status == 403:
                return None
            raise
        value = (secret.get("data") or {}).get(key)
        return base64.b64decode(value) if isinstance(value, str) else None

    async def runs(
        self, *, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        listing = await self.client.list(
            RESOURCE_OF_KIND[kind], namespace=namespace, labelSelector=selector
        )
        return list(listing.get("items") or [])

    async def create(self, *, manifest: Mapping[str, Any]) -> dict[str, Any] | None:
        """The created object, or None if it exists already (a redelivery)."""
        resource = RESOURCE_OF_KIND[manifest["kind"]]
        namespace = manifest["metadata"]["namespace"]
        try:
            return await self.client.create(resource, namespace=namespace, body=manifest)
        except api.ApiError as exc:
            if exc.already_exists:
                return None
            raise

    async def get(self, *, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return await self.client.get(RESOURCE_OF_KIND[kind], namespace=namespace, name=name)

    async def revoke(self, *, kind: str, namespace: str, name: str) -> None:
        """spec.revoke on a run a trigger created (the caller found it by the trigger's label)."""
        resource = RESOURCE_OF_KIND[kind]
        try:
            await self.client.request(
                "PATCH",
                resource.path(namespace=namespace, name=name),
                body={"spec": {"revoke": True}},
                content_type=api.MERGE_PATCH,
                resource=resource.plural,
            )
        except api.ApiError as exc:
            if not exc.not_found:  # deleted meanwhile: nothing to revoke
                raise

    async def patch_status(
        self, *, namespace: str, name: str, resource_version: str, status: Mapping[str, Any]
    ) -> None:
        await self.client.patch_status(
            PIPELINETRIGGERS,
            namespace=namespace,
            name=name,
            patch={"metadata": {"resourceVersion": resource_version}, "status": status},
        )
