"""Applies the scheduling decisions of PipelineCronJobs (core/cron.py).

A PipelineCronJob creates PipelineJobs it owns, named from their schedule
time: after a restart the same name is computed again, and AlreadyExists
means the run was already created. It revokes (Replace) and deletes
(history limits) only its own children, and writes only its own status.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from conveyor.core import cron, model, status
from conveyor.k8s import api, store

logger = logging.getLogger("conveyor.cron")

Key = store.Key


def children_of(st: store.Store, key: Key) -> list[cron.Child]:
    children = (cron.parse_child(body) for body in st.children_of_cron(key))
    return [child for child in children if child is not None]


def decide(
    *, body: Mapping[str, Any], children: list[cron.Child], now: datetime.datetime
) -> cron.Decision:
    meta, spec, current = cron.parse(body)
    if isinstance(spec, model.SpecError):
        return cron.invalid(status=current, error=spec)
    return cron.decide(meta=meta, spec=spec, status=current, children=children, now=now)


async def apply(
    *,
    client: api.Client,
    body: Mapping[str, Any],
    decision: cron.Decision,
    now: datetime.datetime,
) -> dict[str, Any] | None:
    """Revoke, create, delete, then write the status. Returns the new body
    (None if the PipelineCronJob is gone)."""
    meta, spec, _ = cron.parse(body)
    namespace = meta.namespace
    for name in decision.revoke:
        try:
            await client.request(
                "PATCH",
                api.PIPELINEJOBS.path(namespace=namespace, name=name),
                body={"spec": {"revoke": True}},
                content_type=api.MERGE_PATCH,
            )
        except api.ApiError as exc:
            if not exc.not_found:
                raise
    if decision.create and not isinstance(spec, model.SpecError):
        for name, scheduled_at in decision.create:
            manifest = cron.child_manifest(
                cron=meta, spec=spec, name=name, scheduled_at=scheduled_at
            )
            manifest["metadata"]["ownerReferences"] = [
                api.owner_reference(kind="PipelineCronJob", name=meta.name, uid=meta.uid)
            ]
            try:
                await client.create(api.PIPELINEJOBS, namespace=namespace, body=manifest)
            except api.ApiError as exc:
                if not exc.already_exists:  # created before a restart: done
                    raise
            logger.info("%s/%s scheduled %s for %s", namespace, meta.name, name, scheduled_at)
    for name in decision.delete:
        try:
            await client.delete(api.PIPELINEJOBS, namespace=namespace, name=name)
        except api.ApiError as exc:
            if not exc.not_found:
                raise
    old = body.get("status") or {}
    new = decision.status.to_dict(
        generation=meta.generation, previous_conditions=old.get("conditions") or [], now=now
    )
    patch = status.merge_patch(old=old, new=new)
    if not patch:
        return dict(body)
    try:
        return await client.patch_status(
            api.PIPELINECRONJOBS,
            namespace=namespace,
            name=meta.name,
            patch={"metadata": {"resourceVersion": meta.resource_version}, "status": patch},
        )
    except api.ApiError as exc:
        if exc.not_found:
            return None
        raise
