"""One database engine per URL, SQLite tuned for two processes, and schema migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, and_, bindparam, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, create_engine

from engine.config import Settings, load_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def get_engine(url: str) -> Engine:
    """Return this process's engine for `url` (SQLite: WAL, busy_timeout, foreign keys)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def default_engine(settings: Settings | None = None) -> Engine:
    return get_engine((settings or load_settings()).database_url)


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


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest Alembic revision (idempotent)."""
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


def upsert_insert(bind: Engine | Session, model: type[SQLModel]):
    """INSERT that accepts ON CONFLICT clauses, for this database's dialect."""
    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)
