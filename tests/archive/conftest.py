"""The archive under test: a SQLite file, and a real PostgreSQL server."""

from __future__ import annotations

import collections.abc
import pathlib

import pytest

from conveyor.archive import store, url
from tests.archive import postgres


@pytest.fixture(scope="session")
def postgres_server() -> collections.abc.Iterator[postgres.Server]:
    with postgres.running() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def archive(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> collections.abc.Iterator[store.Archive]:
    """A migrated, empty archive of each kind."""
    if request.param == "sqlite":
        where = url.parse(f"sqlite:///{tmp_path}/history.db")
    else:
        server: postgres.Server = request.getfixturevalue("postgres_server")
        where = url.parse(server.url, password_file=server.password_file())
    archive = store.Archive(url=where)
    archive.migrate()
    try:
        yield archive
    finally:
        if request.param == "postgresql":
            with archive.engine.begin() as connection:  # the next test starts empty
                connection.execute(store.L.delete())
                connection.execute(store.R.delete())
        archive.close()
