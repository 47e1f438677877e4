"""Prometheus metrics of the operator, served on --metrics-port."""

from __future__ import annotations

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
JOBS_CREATED = prometheus_client.Counter(
    "conveyor_jobs_created",
    "batch/v1 Jobs created (one per attempt), by namespace and worker.",
    ["namespace", "worker"],
    registry=REGISTRY,
)


def serve(*, port: int, address: str = "0.0.0.0") -> None:
    prometheus_client.start_http_server(port, addr=address, registry=REGISTRY)
