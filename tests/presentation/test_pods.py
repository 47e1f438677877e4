"""Which container's log is the job's, and why a log cannot be read."""

from __future__ import annotations

import pytest

from conveyor.presentation import pods


def test_unreadable_logs_on_kwok_say_why() -> None:
    pod = {"metadata": {"name": "j-1-abc"}, "spec": {"nodeName": "kwok-node-0"}}
    text = pods.unreadable(pod=pod, message="dial tcp :10250: connect: connection refused")
    assert text.startswith("cannot read the logs of pod j-1-abc: dial tcp")
    assert "simulated by kwok" in text
    real = {"metadata": {"name": "p"}, "spec": {"nodeName": "node-1"}}
    assert "kwok" not in pods.unreadable(pod=real, message="timeout")


@pytest.mark.parametrize(
    ("containers", "expected"),
    [([], "main"), ([{"name": "sidecar"}, {"name": "main"}], "main"), ([{"name": "x"}], "x")],
)
def test_the_main_container(containers: list[dict[str, str]], expected: str) -> None:
    assert pods.container_of({"spec": {"containers": containers}}) == expected
