"""The archive's tables (SQLAlchemy Core). Migrations (migrations/versions)
create and change them; this is what the queries are written against."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.types.TypeDecorator[datetime.datetime]):
    """Aware UTC times in, aware UTC times out, on SQLite (which keeps no zone) too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime.datetime)
        assert value.tzinfo is not None, "archive times are aware (UTC)"
        utc = value.astimezone(datetime.UTC)
        # SQLite compares times as text: one zone-less format for all of them.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime.datetime)
        return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value


METADATA = sa.MetaData()

RECORDS = sa.Table(
    "records",
    METADATA,
    sa.Column("uid", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("namespace", sa.String(253), nullable=False),
    sa.Column("name", sa.String(253), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("worker", sa.String(253), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(128), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime, nullable=False),
    sa.Column("duration", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("pipelinerun", sa.String(253), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    # Newest first, with the uid as the tie-break: the keyset of every page,
    # read in index order (no sort) for the common filters.
    sa.Index("records_kind_finished", "kind", "finished_at", "uid"),
    sa.Index("records_namespace_finished", "namespace", "kind", "finished_at", "uid"),
    sa.Index("records_type_finished", "kind", "type", "finished_at", "uid"),
    sa.Index("records_finished", "finished_at", "uid"),  # all kinds; the retention delete
)

# Labels again, one row each, so that a selector is an indexed lookup on
# SQLite and PostgreSQL alike (no JSON operators, which differ).
LABELS = sa.Table(
    "record_labels",
    METADATA,
    sa.Column("uid", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(317), primary_key=True),
    sa.Column("value", sa.String(63), nullable=False),
    sa.Index("record_labels_key_value", "key", "value"),
)
