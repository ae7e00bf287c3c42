"""imported datasets: the user's own market data and its provenance

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "imported_dataset",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("asset_class", sa.String(8), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_ts", UTC_TIME, nullable=False),
        sa.Column("last_ts", UTC_TIME, nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("imported_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe"),
    )


def downgrade() -> None:
    op.drop_table("imported_dataset")
