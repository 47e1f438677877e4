"""The PipelineJob or PipelineRun a delivery creates: its name, labels and spec.

Pure. The name is derived from the delivery id, so a redelivery computes the
same name and the API server's AlreadyExists is the answer: nothing is ever
created twice for one delivery. Templates see the payload:

- `body` (the JSON payload), `headers` (case-insensitive, without the ones
  that carry the secret), `event`, `ref`, `branch`, `tag`, `revision`,
  `delivery.{id, source}`, `trigger.{name, namespace}`.

A jobTemplate is rendered whole. In a pipelineRunTemplate only `metadata`
and `spec.params` are: the steps are the run's own templates, rendered later
by the pipeline controller with those params.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from conveyor import API_GROUP, API_VERSION
from conveyor.core import model
from conveyor.core.pipeline import expressions
from conveyor.triggers import deliveries, spec

TRIGGER_LABEL = f"{API_GROUP}/trigger"
BRANCH_LABEL = f"{API_GROUP}/branch"
GROUP_LABEL = f"{API_GROUP}/trigger-group"
BODY_LABEL = f"{API_GROUP}/trigger-body"
DELIVERY_ANNOTATION = f"{API_GROUP}/delivery"
EVENT_ANNOTATION = f"{API_GROUP}/event"
REF_ANNOTATION = f"{API_GROUP}/ref"
GROUP_ANNOTATION = f"{API_GROUP}/trigger-group"
RECEIVED_ANNOTATION = f"{API_GROUP}/received-at"
# Trigger names are at most 48 (the CRD says so): 48 + "-" + 10 fits the
# PipelineJob limit of 59.
MAX_TRIGGER_NAME = 48
_HASH = 10
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def name(*, trigger: str, delivery: deliveries.Delivery) -> str:
    """`<trigger>-<10 hex of the delivery id's hash>`: the same for every redelivery."""
    digest = hashlib.sha256(f"{delivery.source}:{delivery.id}".encode()).hexdigest()
    return f"{trigger}-{digest[:_HASH]}"


def label_value(text: str) -> str:
    """`text` as a label value; shortened or cleaned with a hash so distinct texts stay distinct."""
    if len(text) <= 63 and _LABEL_VALUE.match(text):
        return text
    cleaned = re.sub(r"[^-A-Za-z0-9_.]", "-", text)[:52].strip("-_.")
    return f"{cleaned}-{hashlib.sha256(text.encode()).hexdigest()[:_HASH]}".lstrip("-")


def context(
    *,
    trigger: model.Meta,
    delivery: deliveries.Delivery,
    body: Mapping[str, Any],
    headers: deliveries.Headers,
) -> dict[str, Any]:
    """What `when` and the templates see."""
    return {
        "body": body,
        "headers": headers,
        "event": delivery.event,
        "ref": delivery.ref,
        "branch": delivery.branch or "",
        "tag": delivery.tag or "",
        "revision": delivery.revision,
        "delivery": {"id": delivery.id, "source": str(delivery.source)},
        "trigger": {"name": trigger.name, "namespace": trigger.namespace},
    }


def manifest(
    *,
    trigger: model.Meta,
    trigger_spec: spec.TriggerSpec,
    delivery: deliveries.Delivery,
    context: Mapping[str, Any],
    received_at: datetime.datetime,
) -> dict[str, Any] | model.SpecError:
    """The object to create, owned by the trigger; a SpecError if its template fails."""
    field = trigger_spec.template_field
    template = trigger_spec.template
    kind = trigger_spec.kind
    try:
        meta = expressions.render_value(
            value=template.metadata.model_dump(), context=context, field=f"{field}.metadata"
        )
        body_spec = _render_spec(kind=kind, raw=template.spec, context=context, field=field)
    except expressions.ExpressionError as exc:
        return model.SpecError(field=exc.field, message=exc.message)
    invalid = spec.check_rendered(kind=kind, spec=body_spec, field=field)
    if invalid is not None:
        return invalid
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": kind,
        "metadata": {
            "name": name(trigger=trigger.name, delivery=delivery),
            "namespace": trigger.namespace,
            "labels": {
                **_strings(meta.get("labels")),
                **delivery_labels(trigger=trigger.name, delivery=delivery),
            },
            "annotations": {
                **_strings(meta.get("annotations")),
                **delivery_annotations(delivery=delivery, received_at=received_at),
            },
            "ownerReferences": [_owner(trigger)],
        },
        "spec": body_spec,
    }


def delivery_labels(*, trigger: str, delivery: deliveries.Delivery) -> dict[str, str]:
    out = {
        TRIGGER_LABEL: trigger,
        GROUP_LABEL: label_value(delivery.group) if delivery.group else "none",
        BODY_LABEL: delivery.body_sha256[:40],
    }
    branch = delivery.branch if delivery.tag is None else delivery.tag
    if branch:
        out[BRANCH_LABEL] = label_value(branch)
    return out


def delivery_annotations(
    *, delivery: deliveries.Delivery, received_at: datetime.datetime
) -> dict[str, str]:
    return {
        DELIVERY_ANNOTATION: delivery.id[:256],  # the name hashes it whole
        EVENT_ANNOTATION: delivery.event,
        REF_ANNOTATION: delivery.ref,
        GROUP_ANNOTATION: delivery.group,
        # Microseconds: the order of two pushes to one branch decides which one Replace keeps.
        RECEIVED_ANNOTATION: received_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _render_spec(
    *, kind: str, raw: Mapping[str, Any], context: Mapping[str, Any], field: str
) -> dict[str, Any]:
    if kind == "PipelineJob":
        rendered: dict[str, Any] = expressions.render_value(
            value=raw, context=context, field=f"{field}.spec"
        )
        return rendered
    out = copy.deepcopy(dict(raw))
    if "params" in out:
        out["params"] = expressions.render_value(
            value=out["params"], context=context, field=f"{field}.spec.params"
        )
    return out


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def _owner(trigger: model.Meta) -> dict[str, Any]:
    # Not blockOwnerDeletion: that would need update on pipelinetriggers/finalizers.
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": "PipelineTrigger",
        "name": trigger.name,
        "uid": trigger.uid,
        "controller": True,
    }
