"""sweeps: a sweep and its variants; sessions know their sweep and the variant they came from

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sweep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("split_at", UTC_TIME, nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("wait_reason", sa.String(200), nullable=True),
        sa.Column("runner", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sweep_status_id", "sweep", ["status", "id"])
    # REFERENCES inline: SQLite adds such a column in place (no copy of paper_session)
    op.add_column("paper_session", sa.Column("sweep_id", sa.Integer(),
                                             sa.ForeignKey("sweep.id"), nullable=True),
                  inline_references=True)
    op.add_column("paper_session", sa.Column("origin_session_id", sa.Integer(),
                                             sa.ForeignKey("paper_session.id"), nullable=True),
                  inline_references=True)
    op.create_index("ix_paper_session_sweep_id", "paper_session", ["sweep_id"])
    op.create_table(
        "sweep_variant",
        sa.Column("sweep_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("return_pct", sa.Float(), nullable=False),
        sa.Column("buy_hold_pct", sa.Float(), nullable=True),
        sa.Column("sharpe", sa.Float(), nullable=True),
        sa.Column("max_drawdown_pct", sa.Float(), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("profit_factor", sa.Float(), nullable=True),
        sa.Column("in_sample_pct", sa.Float(), nullable=True),
        sa.Column("out_sample_pct", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweep.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["paper_session.id"]),
        sa.PrimaryKeyConstraint("sweep_id", "idx"),
    )
    op.create_index("ix_sweep_variant_session_id", "sweep_variant", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_sweep_variant_session_id", "sweep_variant")
    op.drop_table("sweep_variant")
    op.drop_index("ix_paper_session_sweep_id", "paper_session")
    with op.batch_alter_table("paper_session") as batch:
        batch.drop_column("origin_session_id")
        batch.drop_column("sweep_id")
    op.drop_index("ix_sweep_status_id", "sweep")
    op.drop_table("sweep")
