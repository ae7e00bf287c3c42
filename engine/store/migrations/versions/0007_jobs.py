"""job queue: procrastinate's schema on PostgreSQL; workers count the jobs they run

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _procrastinate_schema() -> str:
    """procrastinate's schema, as the pinned version ships it (requirements.txt pins the minor
    version: a newer schema comes with a migration of ours)."""
    from procrastinate.schema import SchemaManager  # on use: SQLite never needs it

    return SchemaManager.get_schema()


def upgrade() -> None:
    op.add_column("engine_worker", sa.Column("jobs_running", sa.Integer(), nullable=False,
                                             server_default="0"))
    op.add_column("engine_worker", sa.Column("jobs_done", sa.Integer(), nullable=False,
                                             server_default="0"))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # As one script, without parameters: its "%" signs reach the server untouched.
        bind.execution_options(no_parameters=True).exec_driver_sql(_procrastinate_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _procrastinate_schema()
        for kind in ("TABLE", "FUNCTION", "TYPE"):  # tables take their triggers along
            for name in re.findall(rf"^CREATE {kind} (\w+)", schema, re.MULTILINE):
                bind.exec_driver_sql(f"DROP {kind} IF EXISTS {name} CASCADE")
    with op.batch_alter_table("engine_worker") as batch:
        batch.drop_column("jobs_done")
        batch.drop_column("jobs_running")
