"""The chart's archive values: `archive.type: none|sqlite|postgresql`, a
schema that refuses what cannot work, and the SQLite file's claim."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy import tools
from tests.deploy.test_chart import by_kind, objects

DASHBOARD = ("--set", "dashboard.enabled=true")  # the archive's writer
SQLITE = (*DASHBOARD, "--set", "archive.type=sqlite")
POSTGRES = (
    *DASHBOARD,
    *("--set", "archive.type=postgresql", "--set", "archive.postgresql.host=db.example"),
    *("--set", "archive.postgresql.passwordSecret.name=archive-db"),
)


def dashboard(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [found] = [
        d for d in by_kind(docs, "Deployment") if d["metadata"]["name"].endswith("dashboard")
    ]
    return found


def test_no_archive_by_default() -> None:
    docs = objects(tools.template(*DASHBOARD))
    assert by_kind(docs, "PersistentVolumeClaim") == []
    args = dashboard(docs)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not [a for a in args if a.startswith("--archive")]


def test_the_dashboard_records_into_the_sqlite_claim() -> None:
    deployment = dashboard(objects(tools.template(*SQLITE)))
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert "--archive=sqlite:////var/lib/conveyor/archive/history.db" in container["args"]
    assert "--archive-retention=90d" in container["args"]
    assert {"name": "archive", "mountPath": "/var/lib/conveyor/archive"} in container[
        "volumeMounts"
    ]
    assert {"name": "archive", "persistentVolumeClaim": {"claimName": "conveyor-archive"}} in pod[
        "volumes"
    ]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one writer of the file


def test_the_dashboard_reads_the_postgresql_password_from_a_mounted_secret() -> None:
    pod = dashboard(objects(tools.template(*POSTGRES)))["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert (
        "--archive=postgresql://conveyor@db.example:5432/conveyor?sslmode=require"
        in container["args"]
    )
    assert "--archive-password-file=/etc/conveyor/archive-password/password" in container["args"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "archive-password"]
    assert volume["secret"]["secretName"] == "archive-db"
    assert "env" not in container or all("PASSWORD" not in e["name"] for e in container["env"])


def test_sqlite_gets_a_claim_that_outlives_the_release() -> None:
    docs = objects(tools.template(*SQLITE, "--set", "archive.sqlite.size=2Gi"))
    [claim] = by_kind(docs, "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "conveyor-archive"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "storageClassName" not in claim["spec"]


def test_without_the_dashboard_no_claim_is_made() -> None:
    docs = objects(tools.template("--set", "archive.type=sqlite"))
    assert by_kind(docs, "PersistentVolumeClaim") == []


def test_sqlite_on_an_existing_claim_creates_none() -> None:
    docs = objects(tools.template(*SQLITE, "--set", "archive.sqlite.existingClaim=mine"))
    assert by_kind(docs, "PersistentVolumeClaim") == []


def test_postgresql_with_a_host_and_a_password_secret_renders() -> None:
    docs = objects(tools.template(*POSTGRES))
    assert by_kind(docs, "PersistentVolumeClaim") == []
    assert not any(d["kind"] == "Secret" for d in docs)  # the password is yours, by reference


@pytest.mark.parametrize("args", [(), SQLITE, POSTGRES])
def test_helm_lint_strict(args: tuple[str, ...]) -> None:
    tools.helm("lint", "--strict", str(tools.CHART), *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "archive.type=mysql"), "value must be one of"),
        (("--set", "archive.type=postgresql"), "/archive/postgresql/host"),
        (
            ("--set", "archive.type=postgresql", "--set", "archive.postgresql.host=db"),
            "/archive/postgresql/passwordSecret/name",
        ),
        (("--set", "archive.retention=3 months"), "does not match pattern"),
        (("--set", "archive.postgresql.sslmode=maybe"), "value must be one of"),
        (("--set", "archive.password=hunter2"), "additional properties 'password' not allowed"),
    ],
)
def test_the_schema_refuses_bad_archive_values(args: tuple[str, ...], message: str) -> None:
    result = tools.helm("template", "conveyor", str(tools.CHART), *args, check=False)

    assert result.returncode != 0
    assert message in result.stderr
