import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from engine.store import db as db_module
from engine.store.db import (
    HEAD,
    MIGRATIONS,
    checkpoint_apart,
    checkpoint_wal,
    get_engine,
    migrate,
    schema_version,
    session_scope,
)
from engine.store.models import Event
from tests.conftest import ROOT


def test_sqlite_connections_are_tuned_and_only_migrate_creates_the_file(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(sa.exc.OperationalError, match="unable to open database file"):
        engine.connect()
    assert not (tmp_path / "x.db").exists()
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(sa.text("PRAGMA busy_timeout")).scalar() == 5000
        assert c.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert c.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def _events_in_the_file_alone(path, tmp_path) -> int:
    """The events a copy of the database file holds without its write-ahead log."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as c:
        return c.execute("SELECT count(*) FROM event").fetchone()[0]


def test_the_engine_copies_the_log_into_the_file_apart_not_in_its_commits(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / "apart.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine)
    checkpoint_apart(engine)
    with engine.connect() as c:
        assert c.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == 0
    for _ in range(40):  # 8 MiB of log: past the 1,000 pages a commit would copy at
        with session_scope(engine) as s:
            s.add_all(Event(source="t", kind="k", message="x" * 1000) for _ in range(200))
    assert Path(f"{path}-wal").stat().st_size > 4000 * 1024
    assert _events_in_the_file_alone(path, tmp_path) == 0
    checkpoint_wal(engine)
    assert _events_in_the_file_alone(path, tmp_path) == 8000
    assert Path(f"{path}-wal").stat().st_size > 4000 * 1024  # kept for the next writer to reuse
    monkeypatch.setattr(db_module, "WAL_LIMIT_FRAMES", 1000)
    checkpoint_wal(engine)  # a log readers kept from restarting is truncated
    assert Path(f"{path}-wal").stat().st_size == 0


def test_migrations_create_every_table_and_are_idempotent(db):
    migrate(db)
    tables = set(sa.inspect(db).get_table_names())
    assert {"system_state", "engine_lease", "agent", "paper_session", "trade_order", "fill",
            "position", "equity_snapshot", "bar", "sentiment_score", "event", "command",
            "alembic_version"} <= tables
    fill_indexes = {i["name"] for i in sa.inspect(db).get_indexes("fill")}
    assert {"ix_fill_session_id", "ix_fill_ts"} <= fill_indexes


def test_times_come_back_utc_aware(db):
    with session_scope(db) as s:
        s.add(Event(source="t", kind="k", message="m"))
    with Session(db) as s:
        event = s.exec(select(Event)).one()
    assert event.ts.utcoffset().total_seconds() == 0


def test_naive_times_are_refused(db):
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session_scope(db) as s:
        s.add(Event(source="t", kind="k", message="m", ts=datetime(2020, 1, 1)))  # noqa: DTZ001
    with Session(db) as s:
        assert s.exec(select(Event)).all() == []


def test_head_is_alembics_newest_revision():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def test_processes_migrating_a_fresh_database_at_once_all_succeed(env, tmp_path):
    """An engine and CLI calls started together on a new database (issue: `table agent
    already exists`): migrations wait for each other."""
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        drop = sa.create_engine(url)
        with drop.begin() as c:  # the fixture's copy is migrated: start from an empty schema
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        drop.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'fresh' / 'p.db'}"
    script = ("import sys; from engine.store.db import get_engine, migrate; "
              "migrate(get_engine(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", script, url], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(5)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert results == [(0, "")] * 5
    assert schema_version(get_engine(url)) == HEAD


def _alembic(db, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)


def _snapshot_table(db) -> tuple[list[tuple], list, str]:
    """The snapshot rows, the table's foreign keys, and (SQLite) its definition."""
    with db.connect() as c:
        rows = [tuple(r) for r in c.execute(sa.text(
            "SELECT session_id, ts, cash, equity FROM equity_snapshot ORDER BY session_id, ts"))]
        sql = (c.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'equity_snapshot'"))
               .scalar() if db.dialect.name == "sqlite" else "")
    return rows, sa.inspect(db).get_foreign_keys("equity_snapshot"), sql


def test_snapshots_lose_their_row_check_and_keep_every_row_across_migration_0016(db):
    """0016 drops the snapshot table's foreign key (a check each row, the engine's hottest
    write) and on SQLite clusters the table on its key; every row survives both ways."""
    from engine.control.actions import create_session
    from engine.store.db import insert_raw, stored_time

    created = create_session(db, {"name": "snapshots", "symbols": "BTC-USD", "timeframe": "1h",
                                  "strategy": "ma_crossover", "cash": 1000})
    with session_scope(db) as s:
        insert_raw(s, "equity_snapshot", ("session_id", "ts", "cash", "equity"), [
            (created.id, stored_time(db, datetime(2024, 1, 1, h, tzinfo=UTC)), 1000.0 - h,
             1000.0 + h / 7) for h in range(24)])
    at_head = _snapshot_table(db)
    assert len(at_head[0]) == 24
    assert at_head[1] == []
    _alembic(db, "downgrade", "0015")
    before = _snapshot_table(db)
    assert before[0] == at_head[0]
    assert [fk["referred_table"] for fk in before[1]] == ["paper_session"]
    assert "WITHOUT ROWID" not in before[2]
    _alembic(db, "upgrade", "head")
    after = _snapshot_table(db)
    assert after[0] == at_head[0]
    assert after[1] == []
    assert schema_version(db) == HEAD
    if db.dialect.name == "sqlite":
        assert after[2].rstrip().endswith("WITHOUT ROWID")
