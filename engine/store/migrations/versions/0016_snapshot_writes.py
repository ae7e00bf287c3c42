"""equity snapshots, one row a session and bar, written without a check a row: no foreign key
to the session (the engine writes a session's snapshots in the transaction that checks and,
on PostgreSQL, locks its row, and sessions are never deleted); on SQLite the table is
clustered on its key (WITHOUT ROWID): one b-tree a row instead of a table and an index

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = "session_id, ts, cash, equity"


def _rebuild_on_sqlite(constraints: str, options: str) -> None:
    op.execute(f"CREATE TABLE equity_snapshot_new (session_id INTEGER NOT NULL, "
               f"ts DATETIME NOT NULL, cash FLOAT NOT NULL, equity FLOAT NOT NULL, "
               f"PRIMARY KEY (session_id, ts){constraints}){options}")
    op.execute(f"INSERT INTO equity_snapshot_new ({COLUMNS}) SELECT {COLUMNS} "
               f"FROM equity_snapshot ORDER BY session_id, ts")
    op.execute("DROP TABLE equity_snapshot")
    op.execute("ALTER TABLE equity_snapshot_new RENAME TO equity_snapshot")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_on_sqlite("", " WITHOUT ROWID")
        return
    for fk in sa.inspect(bind).get_foreign_keys("equity_snapshot"):
        op.drop_constraint(fk["name"], "equity_snapshot", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(", FOREIGN KEY(session_id) REFERENCES paper_session (id)", "")
        return
    op.create_foreign_key("equity_snapshot_session_id_fkey", "equity_snapshot",
                          "paper_session", ["session_id"], ["id"])
