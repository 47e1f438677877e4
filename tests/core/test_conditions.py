"""conditions: one kstatus builder for every kind; lastTransitionTime moves only
when a condition's status changes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conveyor.core import conditions

T0 = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
EARLIER = "2026-01-01T11:00:00Z"
NOW = "2026-01-01T12:00:00Z"


def build(wanted: dict[str, bool], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return conditions.build(
        wanted=wanted, reason="Why", message="words", generation=3, previous=previous, now=T0
    )


def test_fields_and_order() -> None:
    assert build({"Ready": True, "Stalled": False}, []) == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Why",
            "message": "words",
            "observedGeneration": 3,
            "lastTransitionTime": NOW,
        },
        {
            "type": "Stalled",
            "status": "False",
            "reason": "Why",
            "message": "words",
            "observedGeneration": 3,
            "lastTransitionTime": NOW,
        },
    ]


@pytest.mark.parametrize(
    ("previous", "true", "transition"),
    [
        ([], True, NOW),  # new
        ([{"type": "Ready", "status": "True", "lastTransitionTime": EARLIER}], True, EARLIER),
        ([{"type": "Ready", "status": "False", "lastTransitionTime": EARLIER}], True, NOW),
        ([{"type": "Ready", "status": "True"}], True, NOW),  # kept, but no time recorded
        ([{"type": "Stalled", "status": "True", "lastTransitionTime": EARLIER}], True, NOW),
    ],
)
def test_last_transition_time_moves_only_on_a_change(
    previous: list[dict[str, Any]], true: bool, transition: str
) -> None:
    (ready,) = build({"Ready": true}, previous)
    assert ready["lastTransitionTime"] == transition


READY = {"type": "Ready", "status": "True"}


@pytest.mark.parametrize(
    ("fields", "conds", "expected"),
    [
        # None is an absent field, not a null one; conditions come last.
        (
            {"state": "RUNNING", "message": None, "observedGeneration": 2},
            [READY],
            {"state": "RUNNING", "observedGeneration": 2, "conditions": [READY]},
        ),
        # Falsy values other than None are written: 0, "", [] and False mean something.
        (
            {"count": 0, "text": "", "items": [], "flag": False},
            [],
            {"count": 0, "text": "", "items": [], "flag": False, "conditions": []},
        ),
        ({}, [READY, READY], {"conditions": [READY, READY]}),
    ],
)
def test_status_dict(
    fields: dict[str, Any], conds: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    out = conditions.status_dict(fields=fields, conditions=conds)
    assert out == expected
    assert list(out) == list(expected)  # the order written


def test_status_dict_does_not_share_the_callers_conditions() -> None:
    conds = [dict(READY)]
    out = conditions.status_dict(fields={}, conditions=conds)
    out["conditions"][0]["status"] = "False"
    assert conds == [READY]
