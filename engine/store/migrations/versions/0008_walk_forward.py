"""walk-forward: the folds of a walk-forward sweep, each with its out-of-sample session

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "walk_forward_fold",
        sa.Column("sweep_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("train_from", UTC_TIME, nullable=False),
        sa.Column("train_to", UTC_TIME, nullable=False),
        sa.Column("test_from", UTC_TIME, nullable=False),
        sa.Column("test_to", UTC_TIME, nullable=False),
        sa.Column("train_bars", sa.Integer(), nullable=False),
        sa.Column("test_bars", sa.Integer(), nullable=False),
        sa.Column("variant_idx", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("in_sample_score", sa.Float(), nullable=True),
        sa.Column("in_sample_pct", sa.Float(), nullable=False),
        sa.Column("out_sample_pct", sa.Float(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweep.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["paper_session.id"]),
        sa.PrimaryKeyConstraint("sweep_id", "idx"),
    )


def downgrade() -> None:
    op.drop_table("walk_forward_fold")
