"""engine workers on PostgreSQL: the workers, and a lease per running session and dataset

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def _lease_columns() -> list[sa.Column]:
    return [
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "engine_worker",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("offline_reported", sa.Boolean(), nullable=False),
        sa.Column("sessions_owned", sa.Integer(), nullable=False),
        sa.Column("datasets_owned", sa.Integer(), nullable=False),
        sa.Column("tick_p95_ms", sa.Float(), nullable=True),
        sa.Column("cpu_pct", sa.Float(), nullable=False),
        sa.Column("rss_mb", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "session_lease",
        *_lease_columns(),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("takeovers", sa.Integer(), nullable=False),
        sa.Column("downtime_s", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["paper_session.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index("ix_session_lease_worker_id", "session_lease", ["worker_id"])
    op.create_table(
        "dataset_lease",
        *_lease_columns(),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe"),
    )
    op.create_index("ix_dataset_lease_worker_id", "dataset_lease", ["worker_id"])


def downgrade() -> None:
    op.drop_index("ix_dataset_lease_worker_id", "dataset_lease")
    op.drop_table("dataset_lease")
    op.drop_index("ix_session_lease_worker_id", "session_lease")
    op.drop_table("session_lease")
    op.drop_table("engine_worker")
