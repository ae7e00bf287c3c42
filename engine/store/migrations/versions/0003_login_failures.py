"""login failures for the password lockout

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(200), nullable=False),
        sa.Column("ts", engine.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failure_client_ts", "login_failure", ["client", "ts"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_client_ts", "login_failure")
    op.drop_table("login_failure")
