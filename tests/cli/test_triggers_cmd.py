"""`conveyor triggers` rows and `conveyor trigger test` headers."""

from __future__ import annotations

import datetime

import pytest

from conveyor.cli import triggers_cmd
from conveyor.triggers import deliveries, signatures

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def test_a_row_shows_the_counts_and_the_last_delivery() -> None:
    body = {
        "metadata": {"name": "api", "namespace": "team-a"},
        "spec": {"source": "gitlab", "concurrencyPolicy": "Replace", "pipelineRunTemplate": {}},
        "status": {
            "accepted": 4,
            "filtered": 2,
            "refused": 1,
            "lastDelivery": {
                "time": "2026-12-01T11:58:00Z",
                "result": "Created",
                "reason": "Created",
            },
        },
    }
    row = triggers_cmd.row(body, now=NOW)
    assert row.cells(all_namespaces=False) == [
        "api",
        "gitlab",
        "PipelineRun",
        "Replace",
        "4",
        "2",
        "1",
        "2m",
        "Created",
    ]
    assert row.cells(all_namespaces=True, wide=True)[0] == "team-a"


def test_a_trigger_never_delivered_to() -> None:
    row = triggers_cmd.row({"metadata": {"name": "x"}, "spec": {"source": "github"}}, now=NOW)
    assert (row.creates, row.policy, row.last, row.result) == ("PipelineJob", "Allow", "never", "-")


@pytest.mark.parametrize(
    ("spec", "event", "expected"),
    [
        ({"source": "github"}, None, {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d"}),
        ({"source": "github"}, "pull_request", {"X-GitHub-Event": "pull_request"}),
        ({"source": "gitlab"}, None, {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "d"}),
        ({"source": "generic", "generic": {"eventHeader": "X-Kind"}}, "build", {"X-Kind": "build"}),
    ],
)
def test_test_deliveries_are_signed_as_the_forge_signs(
    spec: dict[str, object], event: str | None, expected: dict[str, str]
) -> None:
    headers = triggers_cmd.test_headers(
        spec=spec, secret=b"s3", body=b"{}", event=event, delivery="d"
    )
    assert expected.items() <= headers.items()
    source = signatures.Source(str(spec["source"]))
    assert signatures.verify(source=source, secret=b"s3", body=b"{}", headers=headers)
    read = deliveries.read(source=source, headers=deliveries.Headers(headers), body={}, raw=b"{}")
    assert read.id == ("d" if source is not signatures.Source.GENERIC else read.body_sha256)
