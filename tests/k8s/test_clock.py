"""clock: one clock for the shell; the scaled one (tests only) runs faster
from its anchor, and delays on it last less real time."""

from __future__ import annotations

import datetime

from conveyor.k8s import clock
from tests import builders as b


def test_the_real_clock_is_the_wall_time() -> None:
    c = clock.Clock(wall=lambda: b.T0.timestamp(), monotonic=lambda: 7.0)
    assert c.now() == b.T0
    assert c.monotonic() == 7.0
    assert c.real_seconds(datetime.timedelta(seconds=30)) == 30.0


def test_a_scaled_clock_runs_faster_from_its_anchor() -> None:
    anchor = b.T0.timestamp()
    c = clock.Clock(scale=30.0, anchor=anchor, wall=lambda: anchor + 2.0)
    assert c.now() == b.at(60)  # two real seconds are a scheduled minute
    assert c.real_seconds(datetime.timedelta(minutes=1)) == 2.0
