"""output: aligned tables, colour only where wanted, JSON/YAML."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import yaml

from conveyor.cli import output


def test_columns_are_aligned_to_the_longest_cell() -> None:
    lines = output.table(
        headers=["NAME", "STATE", "AGE"],
        rows=[["a", "RUNNING", "5s"], ["longer-name", "IN-QUEUE", "10m"]],
    )
    assert lines == [
        "NAME          STATE      AGE",
        "a             RUNNING    5s",
        "longer-name   IN-QUEUE   10m",
    ]


def test_no_trailing_spaces_and_the_last_column_is_not_padded() -> None:
    lines = output.table(headers=["A", "CAUSE"], rows=[["x", ""], ["y", "a long cause"]])
    assert all(line == line.rstrip() for line in lines)
    assert lines[1] == "x"


def test_an_empty_table_is_its_header() -> None:
    assert output.table(headers=["NAME", "STATE"], rows=[]) == ["NAME   STATE"]


def test_colour_does_not_change_the_alignment() -> None:
    painter = output.state_painter("STATE")
    rows = [["a", "FAILED", "1"], ["bb", "SUCCESS", "2"]]
    plain = output.table(headers=["N", "STATE", "X"], rows=rows)
    painted = output.table(headers=["N", "STATE", "X"], rows=rows, painter=painter)
    assert "\x1b[31mFAILED\x1b[0m" in painted[1]
    assert "\x1b[32mSUCCESS\x1b[0m" in painted[2]
    strip = [
        line.replace("\x1b[31m", "").replace("\x1b[32m", "").replace("\x1b[0m", "")
        for line in painted
    ]
    assert strip == plain
    assert painted[0] == plain[0]  # headers are never painted


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("IN-QUEUE", "33"),
        ("RUNNING", "34"),
        ("SUCCESS", "32"),
        ("FAILED", "31"),
        ("REVOKED", "35"),
        ("ONLINE", "32"),
        ("DEGRADED", "33"),
        ("OFFLINE", "31"),
        ("PAUSED", "35"),
    ],
)
def test_state_colours(state: str, code: str) -> None:
    assert output.state_painter("STATE")("STATE", state) == f"\x1b[{code}m{state}\x1b[0m"


def test_other_columns_and_unknown_states_stay_plain() -> None:
    painter = output.state_painter("STATE")
    assert painter("NAME", "FAILED") == "FAILED"
    assert painter("STATE", "-") == "-"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "no_color", "expected"),
    [
        pytest.param(Tty(), None, True, id="terminal"),
        pytest.param(io.StringIO(), None, False, id="pipe"),
        pytest.param(Tty(), "1", False, id="NO_COLOR on a terminal"),
        pytest.param(Tty(), "", True, id="empty NO_COLOR is unset"),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    stream: io.StringIO, no_color: str | None, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert output.wants_colour(stream) is expected


def test_dump_json_and_yaml_round_trip() -> None:
    data = [{"name": "a", "queuePosition": 1, "worker": None}]
    assert json.loads(output.dump(data, fmt="json")) == data
    assert yaml.safe_load(output.dump(data, fmt="yaml")) == data


def test_records_have_camel_case_keys() -> None:
    @dataclasses.dataclass
    class Row:
        name: str
        started_at: str | None
        queue_length: int

    assert output.record(Row(name="a", started_at=None, queue_length=2)) == {
        "name": "a",
        "startedAt": None,
        "queueLength": 2,
    }
