"""a sweep variant's bar returns summed in contiguous runs (its curve is stored at display
resolution)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # [bars, sum, sum of squares] of the bar returns in 16 runs (None: a variant written before,
    # whose overfitting odds come from its per-bar curve).
    with op.batch_alter_table("sweep_variant") as batch:
        batch.add_column(sa.Column("return_blocks", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sweep_variant") as batch:
        batch.drop_column("return_blocks")
