"""The PipelineJobs a PipelineCronJob creates: their names, manifests, and how
they are read back.

Pure: no I/O.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from conveyor.core import model, names
from conveyor.core.cron import cronspec

# Defined in core/names.py (one source); kept here for the shell's imports.
CRONJOB_LABEL = names.LABEL_CRONJOB
SCHEDULED_AT_ANNOTATION = names.ANNOTATION_SCHEDULED_AT


@dataclasses.dataclass(frozen=True, kw_only=True)
class Child:
    """One PipelineJob created by this PipelineCronJob."""

    name: str
    scheduled_at: datetime.datetime  # from its annotation conveyor.dev/scheduled-at
    state: model.State | None = None
    finished_at: datetime.datetime | None = None
    revoke_requested: bool = False

    @property
    def finished(self) -> bool:
        return self.state is not None and self.state.finished


def parse_child(body: Mapping[str, Any]) -> Child | None:
    """A child from its PipelineJob body; None without a valid scheduled-at annotation."""
    md = body.get("metadata") or {}
    scheduled_at = model.parse_time((md.get("annotations") or {}).get(SCHEDULED_AT_ANNOTATION))
    if scheduled_at is None or not md.get("name"):
        return None
    job_status = model.JobStatus.from_dict(body.get("status"))
    return Child(
        name=str(md["name"]),
        scheduled_at=scheduled_at,
        state=job_status.state,
        finished_at=model.parse_time(job_status.finished_at),
        revoke_requested=(body.get("spec") or {}).get("revoke") is True,
    )


child_name = names.cron_child_name


def child_manifest(
    *, cron: model.Meta, spec: cronspec.CronSpec, name: str, scheduled_at: datetime.datetime
) -> dict[str, Any]:
    """The PipelineJob (or PipelineRun) to create (the controller adds ownerReferences)."""
    template = spec.job_template or spec.pipeline_run_template or {}
    template_md = template.get("metadata") or {}
    return {
        "apiVersion": names.GROUP_VERSION,
        "kind": spec.child_kind,
        "metadata": {
            "name": name,
            "namespace": cron.namespace,
            "labels": {**(template_md.get("labels") or {}), CRONJOB_LABEL: cron.name},
            "annotations": {
                **(template_md.get("annotations") or {}),
                SCHEDULED_AT_ANNOTATION: model.format_time(scheduled_at),
            },
        },
        "spec": copy.deepcopy(dict(template.get("spec") or {})),
    }
