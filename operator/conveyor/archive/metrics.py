"""Prometheus metrics of the process that runs the recorder (the dashboard
server, or `conveyor archive`), in the process's one registry."""

from __future__ import annotations

import prometheus_client

from conveyor import metrics

REGISTRY = metrics.REGISTRY

RECORDED = prometheus_client.Counter(
    "conveyor_archive_records",
    "Records the archive gained (new uids; a replay adds none), by kind.",
    ["kind"],
    registry=REGISTRY,
)
CAUGHT_UP = prometheus_client.Counter(
    "conveyor_archive_caught_up",
    "Records found missing at a (re)listing, i.e. missed while nothing watched, by kind.",
    ["kind"],
    registry=REGISTRY,
)
PRUNED = prometheus_client.Counter(
    "conveyor_archive_pruned",
    "Records deleted by the retention.",
    registry=REGISTRY,
)
ERRORS = prometheus_client.Counter(
    "conveyor_archive_errors",
    "Failed archive operations (retried), by operation.",
    ["operation"],
    registry=REGISTRY,
)
PENDING = prometheus_client.Gauge(
    "conveyor_archive_pending",
    "Finished objects seen and not yet written to the archive.",
    registry=REGISTRY,
)

_GROUP = ["service", "environment"]
DEPLOYMENT_FREQUENCY = prometheus_client.Gauge(
    "conveyor_dora_deployment_frequency_per_day",
    "Successful deploys per day over the insights window (service and environment "
    "empty: all of them together).",
    _GROUP,
    registry=REGISTRY,
)
LEAD_TIME = prometheus_client.Gauge(
    "conveyor_dora_lead_time_seconds",
    "Median lead time for changes (commit to successful deploy) over the window.",
    _GROUP,
    registry=REGISTRY,
)
CHANGE_FAILURE_RATE = prometheus_client.Gauge(
    "conveyor_dora_change_failure_rate",
    "(Failed deploys + failed canary analyses + rollbacks) / deploys over the window, 0..1.",
    _GROUP,
    registry=REGISTRY,
)
TIME_TO_RESTORE = prometheus_client.Gauge(
    "conveyor_dora_time_to_restore_seconds",
    "Median time from a failed deploy to the next successful one, over the window.",
    _GROUP,
    registry=REGISTRY,
)
DEPLOYS = prometheus_client.Gauge(
    "conveyor_dora_deploys",
    "Deploys (succeeded or failed) that finished in the insights window.",
    _GROUP,
    registry=REGISTRY,
)
BAND = prometheus_client.Gauge(
    "conveyor_dora_band",
    "1 for the DORA performance band (elite, high, medium, low) of each metric.",
    [*_GROUP, "metric", "band"],
    registry=REGISTRY,
)
