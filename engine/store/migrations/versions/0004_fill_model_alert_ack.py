"""fill model per session, partial fills, alert acknowledgements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)
UNIQUE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    # Sessions from before keep what they traded with: flat fee and slippage, no cap, no
    # latency, no impact — the "custom" label says it was no preset.
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("fill_model", sa.String(16), nullable=False,
                                   server_default="custom"))
        batch.add_column(sa.Column("volume_cap_pct", sa.Float(), nullable=True))
        batch.add_column(sa.Column("latency_bars", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("impact_bps", sa.Float(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("fill_price", sa.String(8), nullable=False,
                                   server_default="open"))
        batch.add_column(sa.Column("cancel_after_bars", sa.Integer(), nullable=True))
    with op.batch_alter_table("trade_order") as batch:
        batch.add_column(sa.Column("filled_qty", sa.Float(), nullable=False,
                                   server_default="0"))
    op.execute("UPDATE trade_order SET filled_qty = qty WHERE status = 'filled'")
    # A fill per order and bar (an order may fill in parts over several bars). SQLite's unique
    # constraint has no name of its own: the naming convention gives it one to drop.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("fill", naming_convention=UNIQUE_NAMES) as batch:
        batch.drop_constraint("uq_fill_order_id" if sqlite else "fill_order_id_key",
                              type_="unique")
        batch.add_column(sa.Column("priced_by", sa.String(200), nullable=True))
        batch.create_index("ux_fill_order_bar", ["order_id", "bar_ts"], unique=True)
    op.create_table(
        "alert_ack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("upto_event_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(100), nullable=False),
        sa.Column("acknowledged_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_ack_source_kind", "alert_ack", ["source", "kind", "upto_event_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_ack_source_kind", "alert_ack")
    op.drop_table("alert_ack")
    with op.batch_alter_table("fill") as batch:
        batch.drop_index("ux_fill_order_bar")
        batch.drop_column("priced_by")
        batch.create_unique_constraint("fill_order_id_key", ["order_id"])
    with op.batch_alter_table("trade_order") as batch:
        batch.drop_column("filled_qty")
    with op.batch_alter_table("paper_session") as batch:
        for column in ("cancel_after_bars", "fill_price", "impact_bps", "latency_bars",
                       "volume_cap_pct", "fill_model"):
            batch.drop_column(column)
