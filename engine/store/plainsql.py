"""Parameterised SQL with no ORM: the CLI's fast path opens stdlib sqlite3 or psycopg straight
from DATABASE_URL, engine.control.actions passes its SQLAlchemy connection, and both run the same
queries through `Sql`. Times go in and come out as aware UTC, stored as engine.store.types does
(SQLite: naive UTC text; PostgreSQL: timestamptz)."""

import json
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL",
                  "foreign_keys=ON")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or in-memory)."""
    if not url.startswith("sqlite"):
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path) if path and path != ":memory:" else None


def head_revision() -> str | None:
    """The newest migration's revision, found as Alembic finds it (the one no other revises)
    without importing Alembic: read from the files in engine/migrations/versions."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in MIGRATIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r"^revision = [\"'](\w+)", text, re.MULTILINE))
        revised.update(re.findall(r"^down_revision = [\"'](\w+)", text, re.MULTILINE))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def driver_errors() -> tuple[type[BaseException], ...]:
    """The database errors of every driver this process has loaded."""
    found: list[type[BaseException]] = [sqlite3.Error]
    for module, name in (("psycopg", "Error"), ("sqlalchemy.exc", "SQLAlchemyError")):
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


def loaded_time(raw: Any) -> datetime | None:
    """A stored time as aware UTC (SQLite gives naive UTC text, PostgreSQL aware times)."""
    if raw is None:
        return None
    value = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def loaded_json(raw: Any) -> Any:
    """A JSON column's value (SQLite gives text, PostgreSQL the parsed value)."""
    return json.loads(raw) if isinstance(raw, str) else raw


def loaded(record: dict[str, Any], times: tuple[str, ...] = (), jsons: tuple[str, ...] = (),
           flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row as the ORM loads it: the `times` aware UTC, the `jsons` parsed, the `flags`
    booleans (SQLite stores 0 or 1)."""
    for name in times:
        record[name] = loaded_time(record[name])
    for name in jsons:
        record[name] = loaded_json(record[name])
    for name in flags:
        record[name] = bool(record[name])
    return record


class Sql:
    """SQL with `?` placeholders on one connection; rows come back as the driver gives them."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite

    def rows(self, query: str, *params: Any) -> list[tuple]:
        return self._execute(self._dialect(query), params)[1]

    def records(self, query: str, *params: Any) -> list[dict[str, Any]]:
        """Rows as {column name: value}, so a read takes its columns by name."""
        names, found = self._execute(self._dialect(query), params)
        return [dict(zip(names, row, strict=True)) for row in found]

    def value(self, query: str, *params: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(query, *params)
        return found[0][0] if found else None

    def stored_time(self, value: datetime) -> Any:
        """An aware time in the form its column stores it."""
        return value.astimezone(UTC).strftime(SQLITE_TIME) if self.sqlite else value

    def _dialect(self, query: str) -> str:
        return query if self.sqlite else query.replace("?", "%s")

    def _execute(self, query: str, params: tuple) -> tuple[list[str], list[tuple]]:
        """The column names and the rows of `query` (none for a statement)."""
        raise NotImplementedError


class AlchemySql(Sql):
    """`Sql` on an SQLAlchemy connection (errors arrive wrapped as SQLAlchemyError)."""

    def __init__(self, connection):
        super().__init__(connection.dialect.name == "sqlite")
        self.connection = connection

    def _execute(self, query: str, params: tuple) -> tuple[list[str], list[tuple]]:
        result = self.connection.exec_driver_sql(query, params)
        if not result.returns_rows:
            return [], []
        return list(result.keys()), result.fetchall()


class DriverSql(Sql):
    """`Sql` on a DB-API connection of its own."""

    def __init__(self, connection, sqlite: bool):
        super().__init__(sqlite)
        self.connection = connection

    def _execute(self, query: str, params: tuple) -> tuple[list[str], list[tuple]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(query, params)
            if not cursor.description:
                return [], []
            return [c[0] for c in cursor.description], cursor.fetchall()
        finally:
            cursor.close()

    @contextmanager
    def unit(self) -> Iterator["DriverSql"]:
        """One short unit of work: commit on success, roll back on error."""
        try:
            yield self
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at (None: not migrated, or unreadable)."""
        try:
            with self.unit():
                return self.value("SELECT version_num FROM alembic_version")
        except driver_errors():
            return None


def _open(url: str):
    path = sqlite_file(url)
    if path is not None:  # the file must exist: only engine.store.db.migrate creates one
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=5)
        for pragma in SQLITE_PRAGMAS:
            connection.execute(f"PRAGMA {pragma}")
        return connection
    import psycopg  # on use: SQLite never needs it

    return psycopg.connect("postgresql://" + url.split("://", 1)[1])


@contextmanager
def connect(url: str) -> Iterator[DriverSql]:
    """A connection of its own to a SQLite file or PostgreSQL URL, closed on exit."""
    connection = _open(url)
    try:
        yield DriverSql(connection, sqlite_file(url) is not None)
    finally:
        connection.close()


@contextmanager
def reading(source: "Sql | Any") -> Iterator[Sql]:
    """`Sql` over `source`: an `Sql` as it is (its caller owns the unit of work), or an
    SQLAlchemy engine, read on a connection of its own for the duration."""
    if isinstance(source, Sql):
        yield source
        return
    with source.connect() as connection:
        yield AlchemySql(connection)
