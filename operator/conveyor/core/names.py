"""Names, labels and the API version: one source for each, shared by the core,
the shell, the templates and the CLI.

Changing one of these changes what the operator finds its objects by: Jobs
and pods of an older operator would no longer be recognised.

Pure: no I/O.
"""

from __future__ import annotations

import datetime

API_GROUP = "conveyor.dev"
API_VERSION = "v1alpha1"
# The `apiVersion` of every Conveyor object.
GROUP_VERSION = f"{API_GROUP}/{API_VERSION}"

# On each Job and pod of an attempt: who it belongs to, so the operator can
# find them again after a restart.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "conveyor"
LABEL_PIPELINEJOB = f"{API_GROUP}/pipelinejob"
LABEL_ATTEMPT = f"{API_GROUP}/attempt"
LABEL_WORKER = f"{API_GROUP}/worker"
# Set by the default templates only (Worker jobTemplates may leave it out).
LABEL_JOB_TYPE = f"{API_GROUP}/job-type"
# Set by the Job controller on its pods.
LABEL_JOB_NAME = "batch.kubernetes.io/job-name"

# On each child of a PipelineCronJob.
LABEL_CRONJOB = f"{API_GROUP}/cronjob"  # the PipelineCronJob's name
ANNOTATION_SCHEDULED_AT = f"{API_GROUP}/scheduled-at"  # RFC 3339 schedule time


def job_name(*, pipelinejob: str, attempt: int) -> str:
    """The batch/v1 Job of an attempt. Deterministic: a restart re-derives the
    same name, so no attempt runs twice."""
    return f"{pipelinejob}-{attempt}"


def cron_child_name(*, cron: str, scheduled_at: datetime.datetime) -> str:
    """A PipelineCronJob's run: minutes since 1970 of the schedule time, as
    CronJob names its Jobs; a restart re-derives it, AlreadyExists means done."""
    return f"{cron}-{int(scheduled_at.timestamp() // 60)}"


def owner_labels(*, pipelinejob: str, attempt: int, worker: str) -> dict[str, str]:
    """The labels the operator sets on an attempt's Job and pod template."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_PIPELINEJOB: pipelinejob,
        LABEL_ATTEMPT: str(attempt),
        LABEL_WORKER: worker,
    }
