"""The database a dashboard process works on: one engine per URL, brought to the newest
schema before its first use (the dashboard may start before the engine has migrated)."""

from functools import cache

from sqlalchemy import Engine

from engine.store.db import get_engine, migrate


@cache
def _migrated(url: str) -> Engine:
    engine = get_engine(url)
    migrate(engine)
    return engine


def database(url: str) -> Engine:
    """The engine of `url`, migrated once per process."""
    return _migrated(url)
