"""The CLI's fast path (engine.cli.fast): `status`, `logs` and the control commands run on plain
SQL without importing the ORM, pandas or Alembic, and answer as the ORM path does."""

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.logs import get_logger
from engine.reads.summary import system_summary
from engine.registry.agents import SPECS
from engine.store.db import HEAD, get_engine, schema_version, session_scope
from engine.store.models import Agent, Command, EngineLease, SystemState
from engine.store.plainsql import head_revision
from tests.conftest import ROOT, cli, replay_session

ON_PG = bool(os.environ.get("PAPERDESK_TEST_PG_URL"))
HEAVY = ("sqlmodel", "pydantic", "alembic", "pandas", "numpy")  # besides sqlalchemy.orm


@pytest.fixture
def desk(db, env, logs_dir) -> dict:
    """Agents, the system running, a running session and an engine log."""
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for kind, spec in SPECS.items():
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running"))
    get_logger(logs_dir, "engine", pin=True).info("engine started")
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-09-01"}, to_end=False)
    return {"sid": str(sid)}


MODULES = "-- modules --"  # the probe's stderr lists sys.modules after this line
PROBE = ("import runpy, sys\n"
         "try:\n"
         "    runpy.run_module('engine', run_name='__main__', alter_sys=True)\n"
         "finally:\n"
         f"    print({MODULES!r}, *sys.modules, sep='\\n', file=sys.stderr)\n")


def _imported(env: dict, *args: str) -> set[str]:
    """The modules `python -m engine ARGS` holds in sys.modules when it exits (it must exit
    0), those it imports on use (importlib) included: -X importtime lists none of those."""
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, (args, result.stderr[-2000:])
    return set(result.stderr.split(f"{MODULES}\n", 1)[1].split())


@pytest.mark.parametrize("args", [
    ["status"], ["status", "--json"], ["logs", "engine", "--lines", "5"],
    ["logs", "execution"], ["system", "pause"], ["agent", "stop", "strategy"],
    ["agent", "config", "execution", "alert_drawdown_pct=12"],
    ["agent", "reset-metrics", "sentiment"], ["session", "pause", "SID"],
    ["session", "speed", "SID", "20"], ["session", "stop-all"],
], ids=" ".join)
def test_fast_commands_import_neither_the_orm_nor_sqlalchemy(desk, env, logs_dir, args):
    (logs_dir / "execution.log").write_text("a line\n")
    modules = _imported(env, *[desk["sid"] if a == "SID" else a for a in args])
    assert "engine.cli.fast" in modules
    assert [m for m in modules if m.split(".")[0] in (*HEAVY, "sqlalchemy")] == []


def test_session_config_imports_no_orm(desk, env):
    """engine.control.session_spec (its risk fields) imports SQLAlchemy's core for a type hint, but
    neither the ORM, pandas nor Alembic."""
    modules = _imported(env, "session", "config", desk["sid"], "fast=5")
    assert "engine.cli.fast" in modules
    assert [m for m in modules if m.split(".")[0] in HEAVY
            or m.startswith("sqlalchemy.orm")] == []


def test_head_revision_is_the_newest_migration():
    assert head_revision() == HEAD


@pytest.mark.skipif(ON_PG, reason="the SQLite lease (PostgreSQL's engine is its workers)")
def test_status_reads_what_the_dashboard_reads(desk, env, db):
    """The CLI reads the summary on the driver's own connection, the dashboard through
    SQLAlchemy: the same function must report the same document on both."""
    control.system_action(db, "pause")
    with session_scope(db) as s:
        s.add(EngineLease(token=uuid.uuid4().hex, holder="elsewhere:1", hostname="elsewhere",
                          pid=1))
    fast = json.loads(cli(env, "status", "--json").stdout)
    dashboard = json.loads(json.dumps({**asdict(system_summary(db)), "workers": []},
                                      default=lambda value: value.isoformat()))
    assert fast["engine"].pop("age_s") == pytest.approx(dashboard["engine"].pop("age_s"), abs=5)
    assert fast == dashboard
    assert fast["engine"]["online"] is True
    assert fast["pending_commands"] == 1
    text = cli(env, "status").stdout.splitlines()
    assert text[:2] == ["system:   running", "engine:   online (elsewhere:1, heartbeat "
                        f"{text[1].split('heartbeat ')[1]}"]


def _commands(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(Command)).one()


@pytest.mark.parametrize(("args", "code", "start"), [
    (["agent", "config", "execution", "alert_drawdown_pct=0"], 2,
     "error: config alert_drawdown_pct must be at least 0.1"),
    (["agent", "config", "execution", "colour=red"], 2, "error: unknown config 'colour'"),
    (["agent", "config", "execution"], 2, "error: config needs at least one KEY=VALUE"),
    (["agent", "config", "execution", "=1"], 2, "error: KEY=VALUE expected, got '=1'"),
    (["agent", "start", "execution"], 3, "error: cannot start agent execution: it is running"),
    (["agent", "stop", "nope"], 4, "error: no agent 'nope'"),
    (["system", "start"], 3, "error: cannot start system: it is running"),
    (["session", "resume", "SID"], 3, "error: cannot resume session"),
    (["session", "start", "abc"], 2, "error: session id must be a whole number"),
    (["session", "stop", "1180591620717411303424"], 4, "error: no session"),
    (["session", "speed", "SID", "0"], 2, "error: speed must be above 0"),
    (["session", "config", "SID", "fast=x"], 2, "error: param fast must be a"),
    (["logs", "engine\n"], 2, "error: log id 'engine\\n' is not an agent id"),
    (["logs", "session-999"], 4, "error: no agent or session 'session-999'"),
    (["logs", "engine", "--lines", "0"], 2, "error: lines must be between 1 and 10000"),
    (["logs", "engine", "--level", "LOUD"], 2, "error: level must be one of"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_fast_refusals_are_one_line_with_their_exit_code(desk, env, db, args, code, start):
    before = _commands(db)
    result = cli(env, *[desk["sid"] if a == "SID" else a for a in args])
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1
    assert _commands(db) == before


def test_control_commands_queue_what_engine_control_queues(desk, env, db):
    sid = desk["sid"]
    for args in (["system", "pause"], ["agent", "stop", "sentiment"],
                 ["agent", "config", "execution", "alert_drawdown_pct=12"],
                 ["agent", "reset-metrics", "strategy"], ["session", "pause", sid],
                 ["session", "stop", sid, "--close-positions"], ["session", "resume-all"]):
        result = cli(env, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout.startswith("queued as command ")
    with Session(db) as s:
        rows = s.exec(select(Command).order_by(Command.id)).all()
    assert [(c.target, c.target_id, c.action, c.payload, c.status, c.requested_by)
            for c in rows] == [
        ("system", None, "pause", {}, "pending", "cli"),
        ("agent", "sentiment", "stop", {}, "pending", "cli"),
        ("agent", "execution", "configure", {"alert_drawdown_pct": 12.0}, "pending", "cli"),
        ("agent", "strategy", "reset_metrics", {}, "pending", "cli"),
        ("session", sid, "pause", {}, "pending", "cli"),
        ("session", sid, "stop", {"close_positions": True}, "pending", "cli"),
        ("session", None, "resume_all", {}, "pending", "cli"),
    ]
    assert all(c.created_at.tzinfo is not None for c in rows)


@pytest.mark.skipif(ON_PG, reason="a database file exists on SQLite only")
def test_a_database_not_at_head_is_migrated_first_and_a_read_never_creates_one(env, tmp_path):
    path = Path(env["PAPERDESK_HOME"]) / "paperdesk.db"
    assert cli(env, "status").returncode == 4
    assert not path.exists()
    made = cli(env, "system", "start")  # a control command creates the database, as before
    assert (made.returncode, made.stdout) == (0, "queued as command 1\n"), made.stderr
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    sqlite3.connect(path).close()  # an empty, unmigrated file
    shown = cli(env, "status")
    assert shown.returncode == 0, shown.stderr
    assert schema_version(get_engine(f"sqlite:///{path}")) == HEAD


def test_an_unreachable_database_is_one_line_on_the_fast_path(env):
    broken = {**env, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    for args in (["system", "start"], ["logs", "engine"], ["session", "pause", "1"]):
        result = cli(broken, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("error: database unavailable (OperationalError: ")
        assert result.stderr.count("\n") == 1
