"""the warning and error events by (source, kind), for the alert groups

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ALERTS = sa.text("severity IN ('warning', 'error')")


def upgrade() -> None:
    # Partial: only the (few) alert events are indexed, so ordinary events cost no more to write.
    op.create_index("ix_event_alert", "event", ["source", "kind", "id", "ts"], unique=False,
                    sqlite_where=ALERTS, postgresql_where=ALERTS)


def downgrade() -> None:
    op.drop_index("ix_event_alert", table_name="event")
