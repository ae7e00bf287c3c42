"""Alembic environment: runs on the connection `engine.store.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import engine.store.datasets  # noqa: F401  (and the imported datasets)
import engine.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import engine.store.news  # noqa: F401  (the news scores and imports)
import engine.store.walk_forward  # noqa: F401  (and the walk-forward folds)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
