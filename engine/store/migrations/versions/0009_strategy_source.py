"""the source a session's strategy was loaded from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The sha256 of a user strategy's file when the session was created (None: a built-in).
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("strategy_source", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_session") as batch:
        batch.drop_column("strategy_source")
