"""The chart's archive values: `archive.type: none|sqlite|postgresql`, a
schema that refuses what cannot work, and the SQLite file's claim."""

from __future__ import annotations

import pytest

from tests.deploy import tools
from tests.deploy.test_chart import by_kind, objects

POSTGRES = (
    *("--set", "archive.type=postgresql", "--set", "archive.postgresql.host=db.example"),
    *("--set", "archive.postgresql.passwordSecret.name=archive-db"),
)


def test_no_archive_by_default() -> None:
    assert by_kind(objects(tools.template()), "PersistentVolumeClaim") == []


def test_sqlite_gets_a_claim_that_outlives_the_release() -> None:
    docs = objects(
        tools.template("--set", "archive.type=sqlite", "--set", "archive.sqlite.size=2Gi")
    )
    [claim] = by_kind(docs, "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "conveyor-archive"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "storageClassName" not in claim["spec"]


def test_sqlite_on_an_existing_claim_creates_none() -> None:
    docs = objects(
        tools.template("--set", "archive.type=sqlite", "--set", "archive.sqlite.existingClaim=mine")
    )
    assert by_kind(docs, "PersistentVolumeClaim") == []


def test_postgresql_with_a_host_and_a_password_secret_renders() -> None:
    docs = objects(tools.template(*POSTGRES))
    assert by_kind(docs, "PersistentVolumeClaim") == []
    assert not any(d["kind"] == "Secret" for d in docs)  # the password is yours, by reference


@pytest.mark.parametrize("args", [(), ("--set", "archive.type=sqlite"), POSTGRES])
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
