"""When a Lease counts as expired: the rule every candidate applies."""

from __future__ import annotations

import datetime

import pytest

from conveyor.k8s import leader

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - datetime.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    ("spec", "is_expired"),
    [
        pytest.param({"renewTime": stamp(5), "leaseDurationSeconds": 15}, False, id="fresh"),
        pytest.param({"renewTime": stamp(16), "leaseDurationSeconds": 15}, True, id="lapsed"),
        pytest.param({"acquireTime": stamp(5), "leaseDurationSeconds": 15}, False, id="acquired"),
        pytest.param({"leaseDurationSeconds": 15}, True, id="never renewed"),
        pytest.param({"renewTime": "garbage", "leaseDurationSeconds": 15}, True, id="unreadable"),
    ],
)
def test_expired(spec: dict[str, object], is_expired: bool) -> None:
    assert leader.expired(spec=spec, now=NOW) is is_expired
