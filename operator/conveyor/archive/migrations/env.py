"""Alembic's environment: the connection is handed in by store.migrate."""

from __future__ import annotations

from alembic import context

from conveyor.archive import schema

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=schema.METADATA,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
