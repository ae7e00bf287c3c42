"""news: every headline score with its symbol and the time it became known, the provenance of
imported headline files, and each session's sentiment input

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import engine.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TIME = engine.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "news_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("symbols", sa.String(200), nullable=False),
        sa.Column("first_at", UTC_TIME, nullable=False),
        sa.Column("last_at", UTC_TIME, nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("imported_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "news_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("known_at", UTC_TIME, nullable=False),
        sa.Column("dated", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("stored_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["news_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_news_score_symbol_known", "news_score", ["symbol", "known_at"])
    op.create_index("ix_news_score_digest", "news_score", ["symbol", "digest"])
    op.create_index("ix_news_score_import_id", "news_score", ["import_id"])
    # The sentiment input a session's strategy sees (engine/core/news.py).
    with op.batch_alter_table("paper_session") as batch:
        batch.add_column(sa.Column("sentiment", sa.String(16), nullable=False,
                                   server_default="price-mood"))


def downgrade() -> None:
    with op.batch_alter_table("paper_session") as batch:
        batch.drop_column("sentiment")
    op.drop_table("news_score")
    op.drop_table("news_import")
