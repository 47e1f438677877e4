"""crds/pipelinetriggers.conveyor.dev.yaml: generated, and in step with the model
and with the status the receiver writes."""

from __future__ import annotations

import datetime
import pathlib
import subprocess
import sys
from typing import Any

import yaml
from pydantic import alias_generators

from conveyor.triggers import objects, spec, tally

ROOT = pathlib.Path(__file__).resolve().parents[2]
CRD = yaml.safe_load((ROOT / "crds" / "pipelinetriggers.conveyor.dev.yaml").read_text())
[VERSION] = CRD["spec"]["versions"]
SCHEMA = VERSION["schema"]["openAPIV3Schema"]


def props(node: dict[str, Any]) -> set[str]:
    return set(node["properties"])


def aliases(cls: Any) -> set[str]:
    return {f.alias or alias_generators.to_camel(n) for n, f in cls.model_fields.items()}


def test_the_committed_file_is_what_the_generator_prints() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "gen_trigger_crd.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_identity() -> None:
    names = CRD["spec"]["names"]
    assert (names["kind"], names["shortNames"], names["categories"]) == (
        "PipelineTrigger",
        ["pt"],
        ["conveyor"],
    )
    assert VERSION["subresources"] == {"status": {}}


def test_spec_fields_are_the_models() -> None:
    spec_schema = SCHEMA["properties"]["spec"]
    assert props(spec_schema) == {
        alias_generators.to_camel(n) for n in spec.TriggerSpec.model_fields
    }
    assert props(spec_schema["properties"]["filters"]) == aliases(spec.Filters)
    assert props(spec_schema["properties"]["generic"]) == aliases(spec.Generic)
    assert spec_schema["properties"]["concurrencyPolicy"]["enum"] == [p.value for p in spec.Policy]
    assert spec_schema["properties"]["source"]["enum"] == [s.value for s in spec.Source]


def test_status_declares_everything_the_receiver_writes() -> None:
    pending = tally.Pending()
    at = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    pending.add(
        tally.Outcome(
            count=tally.Count.ACCEPTED,
            result="Created",
            reason="Created",
            message="m",
            delivery="d",
            at=at,
        )
    )
    written = tally.patch(status={}, pending=pending, generation=1, now=at)
    status = SCHEMA["properties"]["status"]
    assert set(written) <= props(status)
    assert set(written["lastDelivery"]) <= props(status["properties"]["lastDelivery"])
    assert set(written["conditions"][0]) <= props(status["properties"]["conditions"]["items"])


def test_names_fit() -> None:
    [rule] = SCHEMA["x-kubernetes-validations"]
    assert rule["rule"] == f"size(self.metadata.name) <= {objects.MAX_TRIGGER_NAME}"
