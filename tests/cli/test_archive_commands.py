"""`conveyor history --archive` and `conveyor insights --archive`, on a SQLite archive."""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest

from conveyor.archive import record, store, url
from conveyor.cli import main
from tests.archive import builders

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture
def archived(tmp_path: pathlib.Path) -> str:
    where = f"sqlite:///{tmp_path}/history.db"
    archive = store.Archive(url=url.parse(where))
    archive.migrate()
    labels = {"conveyor.dev/service": "api", "conveyor.dev/environment": "prod"}
    bodies = [
        builders.job(name=f"api-build-{n}", finished=NOW - n * datetime.timedelta(hours=1))
        for n in range(5)
    ]
    hours = datetime.timedelta(hours=1)
    deploy = {"type_": "deploy", "labels": labels}
    bodies += [
        builders.job(name="api-deploy-1", finished=NOW - 30 * hours, **deploy),  # type: ignore[arg-type]
        builders.job(
            name="api-deploy-2",
            state="FAILED",
            namespace="team-b",
            finished=NOW - 20 * hours,
            **deploy,  # type: ignore[arg-type]
        ),
    ]
    found = [record.from_body(kind=record.PIPELINEJOB, body=b) for b in bodies]
    archive.write([r for r in found if r is not None], now=NOW)
    archive.close()
    return where


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_history_reads_the_archive_newest_first(
    archived: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["history", "--archive", archived, "-n", "team-a"]) == 0
    out = lines(capsys.readouterr().out)
    assert out[0].split()[:3] == ["NAME", "TYPE", "WORKER"]
    assert [line.split()[0] for line in out[1:]] == [
        *(f"api-build-{n}" for n in range(5)),
        "api-deploy-1",
    ]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["-A", "--type", "deploy"], ["api-deploy-2", "api-deploy-1"]),
        (["-A", "--state", "failed"], ["api-deploy-2"]),
        (["-A", "-l", "conveyor.dev/service=api"], ["api-deploy-2", "api-deploy-1"]),
        (["-n", "team-a", "--since", "150m"], ["api-build-0", "api-build-1", "api-build-2"]),
        (["-n", "team-a", "--until", "25h"], ["api-deploy-1"]),
    ],
)
def test_history_filters(
    archived: str, capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    assert main.main(["history", "--archive", archived, "--no-headers", *args]) == 0
    out = lines(capsys.readouterr().out)
    column = 1 if "-A" in args else 0
    assert [line.split()[column] for line in out] == names


def test_history_pages_with_a_token(archived: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main.main(
            ["history", "--archive", archived, "-n", "team-a", "--limit", "4", "--no-headers"]
        )
        == 0
    )
    first = capsys.readouterr()
    assert len(lines(first.out)) == 4
    token = first.err.split("--page-token ")[1].split()[0]
    assert (
        main.main(
            [
                "history",
                "--archive",
                archived,
                "-n",
                "team-a",
                "--limit",
                "4",
                "--no-headers",
                "--page-token",
                token,
            ]
        )
        == 0
    )
    second = capsys.readouterr()
    assert [line.split()[0] for line in lines(second.out)] == ["api-build-4", "api-deploy-1"]
    assert "--page-token" not in second.err


def test_history_json_is_shaped_as_the_objects(
    archived: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main.main(["history", "--archive", archived, "-A", "--type", "deploy", "-o", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "List"
    assert [i["metadata"]["name"] for i in doc["items"]] == ["api-deploy-2", "api-deploy-1"]
    assert doc["items"][0]["status"]["state"] == "FAILED"


def test_insights_from_the_archive(archived: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["insights", "--archive", archived, "--since", "7d", "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [group] = doc["groups"]
    assert (group["service"], group["environment"]) == ("api", "prod")
    assert (group["deploys"], group["successful"], group["failed"]) == (2, 1, 1)
    assert group["changeFailureRate"] == 0.5
    assert group["bands"]["change_failure_rate"] == "low"
    assert main.main(["insights", "--archive", archived, "--since", "7d"]) == 0
    table = lines(capsys.readouterr().out)
    assert table[0].startswith("SERVICE")
    assert table[1].split()[:3] == ["api", "prod", "2"]
    assert table[2].startswith("(all)")


def test_a_password_in_the_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["history", "--archive", "postgresql://u:hunter2@db/history"]) == 1
    err = capsys.readouterr().err
    assert "--archive-password-file" in err
    assert "hunter2" not in err


def test_an_archive_nobody_created_is_an_error_not_a_new_file(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["history", "--archive", f"sqlite:///{tmp_path}/none.db"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    (tmp_path / "empty.db").touch()
    assert main.main(["history", "--archive", f"sqlite:///{tmp_path}/empty.db"]) == 1
    assert "no tables yet" in capsys.readouterr().err


def test_a_page_token_needs_the_archive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["history", "--page-token", "x"]) == 2
