"""The database a dashboard process works on: one engine per URL, brought to the newest
schema before its first use (the dashboard may start before the engine has migrated), and
how the dashboard tells that the database is unavailable (a server down, a SQLite file gone)
from any other error, without importing the store or a driver."""

import os
import sqlite3
import sys
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from engine.errors import DatabaseUnavailable
from engine.store.db import get_engine, migrate, sqlite_path

_inodes: dict[str, int] = {}  # SQLite: the file each URL's engine opened


@cache
def _migrated(url: str) -> Engine:
    engine = get_engine(url)
    migrate(engine)
    path = sqlite_path(engine)
    if path is not None:
        _inodes[url] = path.stat().st_ino
    return engine


def database(url: str) -> Engine:
    """The engine of `url`, migrated once per process."""
    return _migrated(url)


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "the database cannot be reached now" (not a bug, not bad input):
    SQLAlchemy's operational and connection errors, the drivers' own, DatabaseUnavailable."""
    found: list[type[BaseException]] = [DatabaseUnavailable, OperationalError, InterfaceError,
                                        DisconnectionError, sqlite3.OperationalError]
    if "psycopg" in sys.modules:
        found += [sys.modules["psycopg"].OperationalError, sys.modules["psycopg"].InterfaceError]
    return tuple(found)


def check_file(url: str) -> None:
    """SQLite: raise DatabaseUnavailable when the file this process opened is gone; a file
    put back in its place (restored, or created afresh) is opened anew. Pooled connections
    would otherwise go on reading the deleted file as if nothing happened."""
    engine = database(url)
    path = sqlite_path(engine)
    if path is None:
        return
    try:
        inode = os.stat(path).st_ino
    except OSError:
        raise DatabaseUnavailable(f"the database file {path} is gone") from None
    if inode != _inodes.get(url):
        engine.dispose()  # drop the connections to the old file
        _inodes[url] = inode


def probe(url: str) -> None:
    """Reach the database once (a query on a connection of the pool); DatabaseUnavailable
    when it cannot be reached."""
    try:
        check_file(url)
        with database(url).connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except unavailable_errors() as exc:
        raise DatabaseUnavailable("the database cannot be reached") from exc
