"""The records of finished PipelineJobs and PipelineRuns, and their labels.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from conveyor.archive import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("namespace", sa.String(253), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("worker", sa.String(253), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", schema.UtcDateTime, nullable=False),
        sa.Column("started_at", schema.UtcDateTime),
        sa.Column("finished_at", schema.UtcDateTime, nullable=False),
        sa.Column("duration", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("pipelinerun", sa.String(253), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("recorded_at", schema.UtcDateTime, nullable=False),
    )
    # The keyset of every page (finish time, uid) behind the common filters.
    op.create_index("records_kind_finished", "records", ["kind", "finished_at", "uid"])
    op.create_index(
        "records_namespace_finished", "records", ["namespace", "kind", "finished_at", "uid"]
    )
    op.create_index("records_type_finished", "records", ["kind", "type", "finished_at", "uid"])
    op.create_index("records_finished", "records", ["finished_at", "uid"])  # all kinds; retention
    op.create_table(
        "record_labels",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(317), primary_key=True),
        sa.Column("value", sa.String(63), nullable=False),
    )
    op.create_index("record_labels_key_value", "record_labels", ["key", "value"])


def downgrade() -> None:
    op.drop_table("record_labels")
    op.drop_table("records")
