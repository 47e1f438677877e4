"""runstatus: a step's entry as read and written; its reason survives the round trip."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.core.pipeline import runstatus


@pytest.mark.parametrize(
    ("written", "reason", "back"),
    [
        ({"reason": "InvalidSpec"}, runstatus.StepReason.INVALID_SPEC, {"reason": "InvalidSpec"}),
        ({"reason": "Succeeded"}, runstatus.StepReason.SUCCEEDED, {"reason": "Succeeded"}),
        ({}, None, {}),  # written before step reasons
        ({"reason": ""}, None, {}),
        ({"reason": "SomethingNewer"}, None, {}),  # a newer operator's: unknown here
    ],
)
def test_a_step_reason_round_trips(
    written: dict[str, Any], reason: runstatus.StepReason | None, back: dict[str, Any]
) -> None:
    entry = runstatus.StepStatus.from_dict({"name": "a", "state": "FAILED", **written})
    assert entry.reason is reason
    assert entry.to_dict() == {"name": "a", "state": "FAILED", **back}
