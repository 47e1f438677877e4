"""Schema pieces taken from crds/pipelinejobs.conveyor.dev.yaml.

A step's `job` is a PipelineJob spec, so its schema is the PipelineJob CRD's
spec schema: without defaults (a step's job gets the run's priority, and a
template is rendered before it is a spec), without update rules (oldSelf),
with rule messages naming the field under the step.
"""

from __future__ import annotations

import copy
import pathlib
import re
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
PIPELINEJOBS = CRDS / "pipelinejobs.conveyor.dev.yaml"
# A field path's leading `spec.` (not the `.spec.` of spec.podTemplate.spec.x).
_LEADING_SPEC = re.compile(r"(?<![\w.])spec\.")


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(PIPELINEJOBS.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def job_schema(where: str) -> dict[str, Any]:
    spec = _schema()["properties"]["spec"]
    result: dict[str, Any] = _as_step_job(copy.deepcopy(spec), where)
    return result


def conditions() -> dict[str, Any]:
    status = _schema()["properties"]["status"]
    return copy.deepcopy(status["properties"]["conditions"])


def _as_step_job(node: Any, where: str) -> Any:
    if isinstance(node, list):
        return [_as_step_job(v, where) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "default":
            continue
        if key == "x-kubernetes-validations":
            rules = [
                {
                    k: _LEADING_SPEC.sub(f"{where}.", v)
                    if k in ("message", "messageExpression")
                    else v
                    for k, v in rule.items()
                }
                for rule in value
                if "oldSelf" not in rule["rule"]
            ]
            if rules:
                out[key] = rules
            continue
        out[key] = _as_step_job(value, where)
    return out


def messages_under(node: Any, prefix: str) -> Any:
    """Rule messages naming fields under `prefix` instead of `spec.`."""
    if isinstance(node, list):
        return [messages_under(v, prefix) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("message", "messageExpression") and isinstance(value, str):
            out[key] = _LEADING_SPEC.sub(f"{prefix}.", value)
        else:
            out[key] = messages_under(value, prefix)
    return out
