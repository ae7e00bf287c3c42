"""an operator's interventions on a session's trading, and where each order came from

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The closes an operator asked for, each with the bar it follows (the core replays them).
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("interventions", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
    # strategy, or manual (an intervention) with who asked for it.
    with op.batch_alter_table("trade_order") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False,
                                   server_default="strategy"))
        batch.add_column(sa.Column("requested_by", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trade_order") as batch:
        batch.drop_column("requested_by")
        batch.drop_column("origin")
    with op.batch_alter_table("paper_session") as batch:
        batch.drop_column("interventions")
