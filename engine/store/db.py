"""One database engine per URL, SQLite tuned for two processes, and schema migrations."""

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, and_, bindparam, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from engine.store.plainsql import SQLITE_PRAGMAS, SQLITE_TIME

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0016"  # the newest migration (tests/store/test_db.py checks it against Alembic's)
WAL_LIMIT_FRAMES = 25_000  # pages of write-ahead log (~100 MiB) checkpoint_wal lets pass
PG_MIGRATION_LOCK = 0x5044  # advisory lock key: one migrating process at a time


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@cache
def _existing_file(path: str):
    """Connect to a SQLite file that must exist: a vanished database is an error, never a
    new empty file (only `migrate` creates the file)."""
    uri = f"file:{quote(path)}?mode=rw"

    def connect():
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5)

    return connect


@cache
def get_engine(url: str) -> Engine:
    """Return this process's engine for `url` (SQLite: WAL, busy_timeout, foreign keys)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        kwargs = ({"creator": _existing_file(path)} if path and path != ":memory:"
                  else {"connect_args": {"check_same_thread": False, "timeout": 5}})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _no_autocheckpoint(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint_apart(engine: Engine) -> None:
    """This process's connections to its SQLite file stop copying the write-ahead log into the
    database when a commit finds the log long (1,000 pages): at 5,000 sessions that was every
    other execution tick, inside its commit. `checkpoint_wal` does it from a thread of its
    own instead, beside the writers."""
    event.listen(engine, "connect", _no_autocheckpoint)
    engine.dispose()  # connections opened before take the pragma when opened again


def checkpoint_wal(engine: Engine) -> None:
    """Copy the committed write-ahead log into the database file without waiting for a writer
    or a reader (a passive checkpoint, run often: one that copies it all between two commits
    lets the next writer restart the log). A log past WAL_LIMIT_FRAMES (readers kept it from
    restarting) is truncated by a checkpoint that waits for them."""
    with engine.connect() as connection:
        _, frames, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        if frames > WAL_LIMIT_FRAMES:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One short unit of work: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL or in-memory)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(database) if database and database != ":memory:" else None


def schema_version(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None: not migrated yet)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialize migrations across processes (an engine and a CLI call on a fresh database)."""
    path = sqlite_path(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.migrate-lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                               {"key": PG_MIGRATION_LOCK})
            connection.commit()


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest Alembic revision (idempotent; one query when it is
    already there; concurrent callers wait for each other)."""
    if schema_version(engine) == HEAD:
        return
    from alembic import command as alembic_command
    from alembic.config import Config as AlembicConfig

    with _migration_lock(engine):
        if schema_version(engine) == HEAD:
            return
        path = sqlite_path(engine)
        if path is not None and not path.exists():
            sqlite3.connect(path).close()  # the one place a database file is created
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            alembic_command.upgrade(cfg, "head")


def bulk_update(s: Session, model: type[SQLModel], rows: list[dict],
                keys: tuple[str, ...] = ("id",)) -> None:
    """UPDATE many rows by key in one executemany (Core, not the ORM's slower bulk path).

    Every row must carry the same columns."""
    if not rows:
        return
    table = model.__table__
    columns = [c for c in rows[0] if c not in keys]
    statement = (
        table.update()
        .where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys)))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )
    s.execute(statement, [{**{f"k_{k}": r[k] for k in keys},
                           **{f"v_{c}": r[c] for c in columns}} for r in rows])


def bulk_insert(s: Session, model: type[SQLModel], rows: list[dict]) -> None:
    """INSERT many rows in one executemany through Core."""
    if rows:
        s.execute(model.__table__.insert(), rows)


def _driver_sql(bind: Engine, sql: str) -> str:
    """`sql` written with ? placeholders, in this driver's paramstyle."""
    return sql if bind.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def insert_raw(s: Session, table: str, columns: tuple[str, ...], rows: list[tuple],
               pg_types: tuple[str, ...] | None = None) -> None:
    """INSERT many rows of values already in the driver's form (no per-value processing:
    the hot path of fast-forward), in one executemany; on PostgreSQL one COPY, in the binary
    format when the columns' `pg_types` are given (half the time of the text format)."""
    if not rows:
        return
    if s.get_bind().dialect.name == "postgresql":  # COPY: one stream instead of a row each
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with s.connection().connection.driver_connection.cursor() as cursor, \
                cursor.copy(sql + (" (FORMAT BINARY)" if pg_types else "")) as copy:
            if pg_types:
                copy.set_types(pg_types)
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    sql = _driver_sql(s.get_bind(), f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})")
    s.connection().exec_driver_sql(sql, rows)


def update_raw(s: Session, table: str, columns: tuple[str, ...], rows: list[tuple],
               key: str = "id") -> None:
    """UPDATE many rows by `key` with values already in the driver's form, in one executemany
    (each row: the values of `columns`, then the key): the per-tick write of every session."""
    if not rows:
        return
    assignments = ", ".join(f"{c} = ?" for c in columns)
    sql = _driver_sql(s.get_bind(), f"UPDATE {table} SET {assignments} WHERE {key} = ?")
    s.connection().exec_driver_sql(sql, rows)


def stored_time(bind: Engine, value: datetime) -> Any:
    """An aware time in the form a UTCDateTime column stores it (for raw inserts): SQLite's
    naive-UTC text as SQLAlchemy writes it, PostgreSQL's timestamptz as is."""
    if bind.dialect.name == "sqlite":
        return value.astimezone(UTC).strftime(SQLITE_TIME)
    return value


def _driver_rows(connection: Connection, sql: str, params: tuple | list) -> list[tuple]:
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(_driver_sql(connection.engine, sql), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def fetch_raw(engine: Engine, sql: str, params: tuple) -> list[tuple]:
    """Rows as the driver returns them (plain tuples, values unconverted): bulk reads."""
    with engine.connect() as connection:
        return _driver_rows(connection, sql, params)


def select_raw(s: Session, sql: str, params: tuple | list) -> list[tuple]:
    """`fetch_raw` inside the caller's transaction (`sql` with ? placeholders): the reads of
    the tick's commit, with no per-row result processing."""
    return _driver_rows(s.connection(), sql, params)


def upsert_insert(bind: Engine | Session, model: type[SQLModel]):
    """INSERT that accepts ON CONFLICT clauses, for this database's dialect."""
    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)
