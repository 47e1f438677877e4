"""Prometheus metrics of the operator, served on --metrics-port."""

from __future__ import annotations

import datetime

import prometheus_client

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)

API_REQUESTS = prometheus_client.Counter(
    "conveyor_api_requests",
    "Requests the operator made to the Kubernetes API, by verb, resource and HTTP code.",
    ["verb", "resource", "code"],
    registry=REGISTRY,
)
TRANSITIONS = prometheus_client.Counter(
    "conveyor_job_transitions",
    "PipelineJob state changes, by namespace, worker, from state, to state and reason.",
    ["namespace", "worker", "from_state", "to_state", "reason"],
    registry=REGISTRY,
)
CONTROLLER_EVENTS = prometheus_client.Counter(
    "conveyor_controller_events",
    "Noteworthy control-loop events: conflicts, adopted Jobs, and errors by kind.",
    ["event"],
    registry=REGISTRY,
)
JOBS_CREATED = prometheus_client.Counter(
    "conveyor_jobs_created",
    "batch/v1 Jobs created (one per attempt), by namespace and worker.",
    ["namespace", "worker"],
    registry=REGISTRY,
)


WORKER_CONCURRENCY = prometheus_client.Gauge(
    "conveyor_worker_concurrency",
    "A Worker's concurrency limit.",
    ["namespace", "worker"],
    registry=REGISTRY,
)
WORKER_RUNNING = prometheus_client.Gauge(
    "conveyor_worker_running",
    "Jobs holding one of a Worker's slots.",
    ["namespace", "worker"],
    registry=REGISTRY,
)
QUEUE_DEPTH = prometheus_client.Gauge(
    "conveyor_queue_depth",
    "IN-QUEUE jobs waiting for a Worker's slot.",
    ["namespace", "worker"],
    registry=REGISTRY,
)
WORKER_STATE = prometheus_client.Gauge(
    "conveyor_worker_state",
    "1 for the Worker's current state (ONLINE, DEGRADED, OFFLINE, PAUSED), else 0.",
    ["namespace", "worker", "state"],
    registry=REGISTRY,
)
QUEUE_WAIT = prometheus_client.Histogram(
    "conveyor_job_queue_wait_seconds",
    "From queued (or the previous attempt's end) to running, per attempt.",
    ["namespace", "worker"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
RUN_TIME = prometheus_client.Histogram(
    "conveyor_job_run_seconds",
    "From running to finished, of the last attempt, by result.",
    ["namespace", "worker", "result"],
    buckets=(1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200),
    registry=REGISTRY,
)


STUCK_JOBS = prometheus_client.Gauge(
    "conveyor_stuck_jobs",
    "Jobs waiting longer than a minute while their Worker has a free slot (an operator fault).",
    ["namespace", "worker"],
    registry=REGISTRY,
)


JOBS_BY_STATE = prometheus_client.Gauge(
    "conveyor_jobs",
    "PipelineJobs known to the operator, by namespace, type and state.",
    ["namespace", "type", "state"],
    registry=REGISTRY,
)
RUNS_BY_STATE = prometheus_client.Gauge(
    "conveyor_pipelineruns",
    "PipelineRuns known to the operator, by namespace and state.",
    ["namespace", "state"],
    registry=REGISTRY,
)
RUN_DURATION = prometheus_client.Histogram(
    "conveyor_pipelinerun_duration_seconds",
    "From a PipelineRun's start to its end, by result.",
    ["namespace", "result"],
    buckets=(1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600),
    registry=REGISTRY,
)
STEP_TRANSITIONS = prometheus_client.Counter(
    "conveyor_pipelinerun_step_transitions_total",
    "Changes of state of PipelineRun steps, by the state entered.",
    ["namespace", "state"],
    registry=REGISTRY,
)
ROUND_SECONDS = prometheus_client.Histogram(
    "conveyor_reconcile_round_seconds",
    "Time of one control round: advancing dirty jobs and the admission passes.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
WRITE_SECONDS = prometheus_client.Histogram(
    "conveyor_reconcile_apply_seconds",
    "Time to apply one decision to the API (status write, Job creation, ...).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


def observe_transition(
    *,
    namespace: str,
    worker: str,
    to_state: str,
    waiting_since: datetime.datetime | None,
    started_at: datetime.datetime | None,
    finished_at: datetime.datetime | None,
) -> None:
    """Fill the wait and run time histograms from one state change of an attempt."""
    if to_state == "RUNNING" and waiting_since and started_at:
        QUEUE_WAIT.labels(namespace, worker).observe(
            max((started_at - waiting_since).total_seconds(), 0)
        )
    if to_state in ("SUCCESS", "FAILED") and started_at and finished_at:
        RUN_TIME.labels(namespace, worker, to_state).observe(
            max((finished_at - started_at).total_seconds(), 0)
        )


def set_worker(
    *, namespace: str, worker: str, concurrency: int, running: int, queued: int, state: str
) -> None:
    WORKER_CONCURRENCY.labels(namespace, worker).set(concurrency)
    WORKER_RUNNING.labels(namespace, worker).set(running)
    QUEUE_DEPTH.labels(namespace, worker).set(queued)
    for candidate in ("ONLINE", "DEGRADED", "OFFLINE", "PAUSED"):
        WORKER_STATE.labels(namespace, worker, candidate).set(1 if candidate == state else 0)


def serve(*, port: int, address: str = "0.0.0.0") -> None:
    prometheus_client.start_http_server(port, addr=address, registry=REGISTRY)
