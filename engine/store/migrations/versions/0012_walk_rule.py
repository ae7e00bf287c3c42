"""the walk-forward rule a session trades with

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A graduated walk-forward's rule (engine.core.settings.WalkRule.as_dict); None: the
    # session trades fixed parameters.
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("walk_rule", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_session") as batch:
        batch.drop_column("walk_rule")
