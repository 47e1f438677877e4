"""The PipelineCronJob decisions (core/cron.py) on the store's view, and the
writes they make (applied by k8s/effects.py).

A PipelineCronJob creates PipelineJobs (or PipelineRuns) it owns, named from their schedule
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

Key = store.Key

logger = logging.getLogger("conveyor.cron")


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


def children_to_create(*, body: Mapping[str, Any], decision: cron.Decision) -> list[dict[str, Any]]:
    """The manifests of the runs the decision creates, owned by the PipelineCronJob."""
    meta, spec, _ = cron.parse(body)
    if not decision.create or isinstance(spec, model.SpecError):
        return []
    manifests = []
    for name, scheduled_at in decision.create:
        manifest = cron.child_manifest(cron=meta, spec=spec, name=name, scheduled_at=scheduled_at)
        manifest["metadata"]["ownerReferences"] = [
            api.owner_reference(kind="PipelineCronJob", name=meta.name, uid=meta.uid)
        ]
        manifests.append(manifest)
    return manifests


def status_patch(
    *, body: Mapping[str, Any], decision: cron.Decision, now: datetime.datetime
) -> dict[str, Any] | None:
    """The status patch of the decision (against the version it was decided
    on), None when the status does not change."""
    meta = cron.parse(body)[0]
    old = body.get("status") or {}
    new = decision.status.to_dict(
        generation=meta.generation, previous_conditions=old.get("conditions") or [], now=now
    )
    patch = status.merge_patch(old=old, new=new)
    if not patch:
        return None
    return {"metadata": {"resourceVersion": meta.resource_version}, "status": patch}


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
    kind = spec.child_kind if isinstance(spec, cron.CronSpec) else "PipelineJob"
    resource = api.PIPELINERUNS if kind == "PipelineRun" else api.PIPELINEJOBS
    for name in decision.revoke:
        await api.unless_gone(
            client.request(
                "PATCH",
                resource.path(namespace=meta.namespace, name=name),
                body={"spec": {"revoke": True}},
                content_type=api.MERGE_PATCH,
            )
        )
    manifests = children_to_create(body=body, decision=decision)
    for (name, scheduled_at), manifest in zip(decision.create, manifests, strict=False):
        try:
            await client.create(resource, namespace=meta.namespace, body=manifest)
        except api.ApiError as exc:
            if not exc.already_exists:  # created before a restart: done
                raise
        logger.info("%s/%s scheduled %s for %s", meta.namespace, meta.name, name, scheduled_at)
    for name in decision.delete:
        await api.unless_gone(client.delete(resource, namespace=meta.namespace, name=name))
    patch = status_patch(body=body, decision=decision, now=now)
    if patch is None:
        return dict(body)
    call = client.patch_status(
        api.PIPELINECRONJOBS, namespace=meta.namespace, name=meta.name, patch=patch
    )
    return await api.unless_gone(call)
