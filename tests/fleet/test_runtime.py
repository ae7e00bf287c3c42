"""Lifecycle tests against a real `python -m engine run` on a real database."""

import json
import signal
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.reads import queries
from engine.reads import status as reads_status
from engine.reads.fleet import lease_info
from engine.store.db import session_scope
from engine.store.models import Agent, Command, Event, PaperSession, SystemState
from tests.conftest import PG_ADMIN_URL, cli, spawn_engine, wait_until

CREATE = ["session", "create", "--name", "t", "--symbols", "BTC-USD", "--strategy",
          "ma_crossover", "--cash", "10000"]


def _status(db, sid) -> str:
    with Session(db) as s:
        return s.get(PaperSession, sid).status


def _snapshot(db) -> tuple:
    """Commands, the events a command could cause (system, sessions) and sessions' statuses;
    the agents' own events (data loaded in the background) are not a refusal's doing."""
    with Session(db) as s:
        return (
            s.exec(select(func.count()).select_from(Command)).one(),
            s.exec(select(func.count()).select_from(Event).where(
                (Event.source == "system") | Event.source.startswith("session-"))).one(),
            tuple(s.exec(select(PaperSession.status).order_by(PaperSession.id)).all()),
        )


def test_cli_session_lifecycle_with_wait(engine_proc, db):
    env = engine_proc.env
    created = cli(env, *CREATE)
    assert created.returncode == 0, created.stderr
    sid = created.stdout.strip()
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running"),
                           ("stop", "stopped")):
        result = cli(env, "session", action, sid, "--wait", "5")
        assert result.returncode == 0, result.stderr
        shown = json.loads(cli(env, "session", "show", sid, "--json").stdout)
        assert shown["status"] == status
    events = queries.events(db, limit=50, source=f"session-{sid}")
    transitions = [m for m in events["message"][::-1] if "→" in m]
    assert [t.split(": ")[1] for t in transitions] == [
        "created → running (by cli)", "running → paused (by cli)",
        "paused → running (by cli)", "running → stopped (by cli)"]


def test_refusals_exit_with_codes_and_change_nothing(engine_proc, db):
    env = engine_proc.env
    sid = cli(env, *CREATE, "--start", "--wait", "5").stdout.strip()
    assert cli(env, "session", "pause", sid, "--wait", "5").returncode == 0
    before = _snapshot(db)
    again = cli(env, "session", "pause", sid)
    assert again.returncode == 3
    assert again.stderr.count("\n") == 1
    assert "it is paused" in again.stderr
    assert cli(env, "agent", "start", "nosuchagent").returncode == 4
    assert cli(env, "session", "show", "999").returncode == 4
    assert _snapshot(db) == before
    assert cli(env, "session", "create", "--name", "x").returncode == 2
    assert cli(env, "session", "pause").returncode == 2
    assert cli(env, "system", "launch").returncode == 2
    assert cli(env, "events", "--limit", "lots").returncode == 2
    bad_symbol = cli(env, *CREATE[:-4], "--symbols", "XYZ", "--strategy", "ma_crossover")
    assert bad_symbol.returncode == 2
    assert "symbols" in bad_symbol.stderr
    assert _snapshot(db) == before


@pytest.mark.skipif(bool(PG_ADMIN_URL), reason="on PostgreSQL a second engine joins as a "
                    "worker (tests/faults/test_workers.py)")
def test_second_engine_refuses_while_first_is_alive(engine_proc, engines, env, db, tmp_path):
    second = spawn_engine(env, tmp_path / "second.out")
    assert second.wait(timeout=30) == 3
    message = (tmp_path / "second.out").read_text()
    assert f":{engine_proc.proc.pid}" in message
    assert "holds the lease" in message
    assert engine_proc.stop() == 0
    assert not lease_info(db).online
    third = engines("third")
    assert third.stop() == 0


def test_kill_9_then_restart_restores_everything(engine_proc, engines, db):
    running = control.create_session(db, {"name": "r", "symbols": "ETH-USD",
                                          "strategy": "rsi_reversion", "timeframe": "1d"},
                                     start=True)
    paused = control.create_session(db, {"name": "p", "symbols": "AAPL", "strategy": "blend",
                                         "timeframe": "1d"}, start=True)
    held = control.create_session(db, {"name": "h", "symbols": "BTC-USD", "strategy": "blend",
                                       "restart_policy": "paused"}, start=True)
    control.wait_for(db, held, 5)
    control.wait_for(db, control.session_action(db, paused.id, "pause"), 5)
    control.wait_for(db, control.agent_action(db, "sentiment", "stop"), 5)
    engine_proc.stop(signal.SIGKILL)
    offline = cli(engine_proc.env, "status", "--json")
    assert json.loads(offline.stdout)["engine"]["online"] is False  # at once, not 6 s later
    started = time.monotonic()
    engines("restart")

    def restored():
        with Session(db) as s:
            agents = {a.id: a.status for a in s.exec(select(Agent))}
            downtime = s.exec(select(Event).where(Event.kind == "downtime")).first()
        return (agents == {"market_data": "running", "sentiment": "stopped",
                           "strategy": "running", "execution": "running"}
                and _status(db, running.id) == "running" and _status(db, paused.id) == "paused"
                and _status(db, held.id) == "paused" and downtime)

    downtime = wait_until(restored, 10, message="state restored after kill -9")
    assert time.monotonic() - started < 5 + 5  # engine start-up plus at most 5 s to restore
    assert "offline for" in downtime.message


def test_failing_agent_goes_to_error_retries_and_others_keep_running(engine_proc, db):
    headlines = Path(engine_proc.env["PAPERDESK_HOME"]) / "feeds" / "news.csv"
    headlines.parent.mkdir(parents=True)
    headlines.write_text("headline,symbol\nBitcoin surges to record high,BTC-USD\n")
    control.wait_for(db, control.update_agent_config(
        db, "sentiment", {"headlines_csv": str(headlines), "interval_s": "0.2"}), 5)
    headlines.unlink()

    def sentiment():
        return reads_status.agent(db, "sentiment")

    failed = wait_until(lambda: sentiment().status == "error" and sentiment(), 10,
                        message="sentiment agent in error")
    assert "headlines_csv" in failed.last_error
    ticks = reads_status.agent(db, "market_data").ticks
    wait_until(lambda: reads_status.agent(db, "market_data").ticks > ticks + 2, 10,
               message="market data still ticking")
    headlines.write_text("headline,symbol\nBitcoin surges to record high,BTC-USD\n")
    wait_until(lambda: sentiment().status == "running", 15, message="retry with backoff")
    recovered = wait_until(lambda: (a := sentiment()).condition == "running" and a, 10,
                           message="shown running once a retried tick succeeds")
    assert recovered.retry_at is None  # the retries are over: a later failure is degraded
    with Session(db) as s:
        assert s.get(SystemState, 1).status == "running"


def test_sigterm_is_a_clean_stop(engine_proc, db):
    assert engine_proc.stop(signal.SIGTERM) == 0
    info = lease_info(db)
    assert not info.online
    with session_scope(db) as s:
        assert s.exec(select(Event).where(Event.kind == "engine_stop")).first() is not None
    assert Path(engine_proc.env["PAPERDESK_HOME"], "logs", "engine.log").is_file()


def test_unreachable_database_is_one_line_not_a_traceback(env):
    broken = {**env, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    result = cli(broken, "status")
    assert result.returncode == 1
    assert result.stderr.startswith("error: database unavailable")
    assert "Traceback" not in result.stderr
    bad_url = cli({**env, "DATABASE_URL": "mysql://x/y"}, "status")
    assert bad_url.returncode == 2
    assert "DATABASE_URL" in bad_url.stderr
