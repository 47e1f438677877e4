"""The chart's Grafana dashboard and Prometheus alerts use metrics the
operator really exports."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from conveyor import metrics

CHART = pathlib.Path(__file__).resolve().parents[2] / "charts" / "conveyor"
DASHBOARD = CHART / "dashboards" / "conveyor.json"
RULES = CHART / "templates" / "prometheusrule.yaml"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def exported() -> set[str]:
    names = set()
    for metric in metrics.REGISTRY.collect():
        names.add(metric.name)
        names.update(sample.name for sample in metric.samples)
    return names


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\bconveyor_[a-z_]+\b", text))


@pytest.mark.parametrize("source", [DASHBOARD, RULES], ids=lambda p: p.name)
def test_every_metric_referenced_is_exported(source: pathlib.Path) -> None:
    names = exported()
    unknown = {
        name
        for name in referenced(source.read_text())
        if name not in names and not any(name.removesuffix(s) in names for s in SUFFIXES)
    }
    assert referenced(source.read_text()), "no conveyor metric referenced at all"
    assert unknown == set()


def test_the_dashboard_is_valid_json_with_panels_for_the_key_questions() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    for wanted in ("Queue depth per Worker", "Workers not ONLINE", "Stuck jobs (operator fault)"):
        assert wanted in titles
    assert all(panel["targets"] for panel in dashboard["panels"])


def test_the_alerts_cover_the_four_failure_modes() -> None:
    alerts = set(re.findall(r"alert: (\w+)", RULES.read_text()))
    assert alerts == {
        "ConveyorOperatorDown",
        "ConveyorQueueStuck",
        "ConveyorWorkerOffline",
        "ConveyorHighFailureRate",
    }
