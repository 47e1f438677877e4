"""Test builders shared by the unit tests, e2e and bench: fluent builders of
Conveyor objects (`pipelinejob`, `worker`), batch/v1 Jobs and pods as the
cluster writes them, and a fixed clock.

    from tests import builders as b
    b.pipelinejob("a", "ns").type("build").priority(3).sim(run_time="5s").obj()
"""

from __future__ import annotations

from tests.builders import clock, kube, objects

# The family in one namespace, so a test reads `b.pipelinejob(...)`, `b.at(5)`.
NAMESPACE = clock.NAMESPACE
T0 = clock.T0
at = clock.at
ts = clock.ts

PipelineJob = objects.PipelineJob
Worker = objects.Worker
pipelinejob = objects.pipelinejob
worker = objects.worker
attempt_entry = objects.attempt_entry
persisted = objects.persisted
with_status = objects.with_status
SIM_RUN_TIME = objects.SIM_RUN_TIME
SIM_EXIT_CODE = objects.SIM_EXIT_CODE
SIM_MESSAGE = objects.SIM_MESSAGE
CUSTOM_PARAMS = objects.CUSTOM_PARAMS
DELAY_PARAMS = objects.DELAY_PARAMS
VALID_PARAMS = objects.VALID_PARAMS

condition = kube.condition
complete = kube.complete
failed = kube.failed
failure_target = kube.failure_target
batch_job = kube.batch_job
pod_pending = kube.pod_pending
pod_unschedulable = kube.pod_unschedulable
pod_running = kube.pod_running
pod_terminated = kube.pod_terminated
pod_succeeded = kube.pod_succeeded
pod_failed = kube.pod_failed
with_init_container = kube.with_init_container
StaticLogin = kube.StaticLogin
