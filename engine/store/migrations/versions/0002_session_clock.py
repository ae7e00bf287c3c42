"""session clock: window, speed, progress, settings history; order numbers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("source", sa.String(8), nullable=False,
                                   server_default="replay"))
        batch.add_column(sa.Column("window_from", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("window_to", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("speed", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_price", sa.JSON(), nullable=False,
                                   server_default="{}"))
        batch.add_column(sa.Column("bars_done", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("bars_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("wait_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("settings_rev", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("config_history", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("ff_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("ff_then", sa.Float(), nullable=True))
    with op.batch_alter_table("trade_order") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.create_index("ux_order_session_seq", ["session_id", "seq"], unique=True)
    # Sessions from before the session clock traded on one shared replay cursor and have no
    # window: they cannot continue bar-exactly, so they end here (their history stays).
    op.execute(
        "UPDATE paper_session SET status = 'stopped', "
        "error = 'stopped by the session-clock upgrade (no replay window)' "
        "WHERE status IN ('created', 'running', 'paused') AND window_from IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("trade_order") as batch:
        batch.drop_index("ux_order_session_seq")
        batch.drop_column("seq")
    with op.batch_alter_table("paper_session") as batch:
        for column in ("ff_then", "ff_until", "config_history", "settings_rev", "wait_reason",
                       "bars_total", "bars_done", "last_price", "speed", "window_to",
                       "window_from", "source"):
            batch.drop_column(column)
