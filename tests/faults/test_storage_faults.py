"""The database's storage fails under a running engine — the disk fills up, the PostgreSQL
server restarts — and comes back: every agent trades again by
itself within seconds, statuses agree, and no fill is lost or repeated (the session reconciles
100 % against a fast-forward of its window)."""

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from engine.config import load_settings
from engine.control import actions as control
from engine.market import catalog
from engine.reads import queries
from engine.reads.fleet import lease_info
from engine.reads.reconcile import reconcile
from engine.store.db import get_engine, migrate
from engine.store.models import Agent, Bar, Fill
from tests.conftest import ROOT, cli, start_engine, wait_until

PG = bool(os.environ.get("PAPERDESK_TEST_PG_URL"))
RECOVER_S = 10  # every agent trades again within this long of the fault clearing


def _mount(path: Path, *options: str) -> bool:
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs",
                             str(path)], capture_output=True, check=False)
    return result.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs for PAPERDESK_HOME (needs root, as the CI machine runs)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not _mount(mount, "size=64m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _session(env: dict, db) -> int:
    control.wait_for(db, control.update_agent_config(db, "sentiment", {"interval_s": "1"}), 10)
    start = catalog.load("BTC-USD", "1h")["ts"].iloc[-1500].isoformat()
    made = cli(env, "session", "create", "--name", "f", "--symbols", "BTC-USD", "--strategy",
               "ma_crossover", "--param", "fast=3", "--param", "slow=9", "--from", start,
               "--speed", "20", "--start", "--wait", "10")
    assert made.returncode == 0, made.stderr
    return int(made.stdout.strip())


def _bars(db, sid: int) -> int:
    return queries.session_document(db, sid).bars_done


def _all_trading_again(db, sid: int) -> None:
    before = _bars(db, sid)
    ticks = {a["id"]: a["ticks"] for a in queries.agents(db).to_dict("records")}

    def trading():
        agents = queries.agents(db).to_dict("records")
        return (_bars(db, sid) > before + 10
                and all(a["status"] == "running" and a["ticks"] > ticks[a["id"]]
                        for a in agents))

    wait_until(trading, RECOVER_S, message="every agent trading again after the fault")


def _finish_and_reconcile(db, sid: int) -> None:
    control.wait_for(db, control.set_session_speed(db, sid, "max"), 10)
    wait_until(lambda: queries.session_document(db, sid).status == "completed", 60,
               message="the session to complete")
    with Session(db) as s:
        fills = s.exec(select(func.count(Fill.id), func.count(Fill.order_id.distinct()))
                       .where(Fill.session_id == sid)).one()
        statuses = set(s.exec(select(Agent.status)).all())
    assert fills[0] == fills[1] > 0  # one fill per order: none repeated
    assert statuses == {"running"}
    result = reconcile(db, sid)
    assert (result.match_pct, result.differences) == (100.0, [])
    with Session(db) as s:  # no shipped bar skipped: what is stored is the whole source
        for key in catalog.datasets():
            stored = s.exec(select(func.count()).select_from(Bar).where(
                Bar.symbol == key[0], Bar.timeframe == key[1])).one()
            assert stored == catalog.span(*key)[2], key


@pytest.mark.skipif(PG, reason="the database file lives on the small disk on SQLite only")
def test_disk_full_then_freed(small_disk, tmp_path):
    env = {**os.environ, "PAPERDESK_HOME": str(small_disk / "home"), "PAPERDESK_AUTOSTART": "0"}
    env.pop("DATABASE_URL", None)
    db = get_engine(load_settings(env).database_url)
    migrate(db)
    engine = start_engine(env, db, tmp_path / "engine.out")
    try:
        sid = _session(env, db)
        wait_until(lambda: _bars(db, sid) > 20, 30, message="the session trading")
        filler = small_disk / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=64"],
                       capture_output=True, check=False)
        wait_until(_disk_full(db, env), 30, message="the engine's writes to fail: disk full")
        filler.unlink()
        _all_trading_again(db, sid)
        _finish_and_reconcile(db, sid)
        assert engine.proc.poll() is None
        assert "Traceback" not in engine.output()
    finally:
        engine.stop()


def _disk_full(db, env: dict):
    """The engine cannot write: its heartbeat (a write every second) goes stale, or (while
    its commits still fit in the write-ahead log's file) copying the log into the database
    fails and it says so."""
    return lambda: (lease_info(db).age_s or 0) > 3 or "disk is full" in _log(env)


def _log(env: dict) -> str:
    logs = Path(env["PAPERDESK_HOME"]) / "logs"
    text = []
    for name in ("engine.log", "execution.log", "strategy.log", "market_data.log"):
        with contextlib.suppress(OSError):
            text.append((logs / name).read_text(errors="replace"))
    return "\n".join(text)


@pytest.mark.skipif(not PG, reason="a PostgreSQL server restart")
def test_postgresql_restart_under_load(engine_proc, db, env):
    sid = _session(env, db)
    wait_until(lambda: _bars(db, sid) > 20, 30, message="the session trading")
    pg = str(ROOT / "scripts" / "pg.sh")
    subprocess.run(["bash", pg, "stop"], check=True, capture_output=True)
    down = time.monotonic()
    try:
        wait_until(lambda: "database unavailable" in _log(env), 30,
                   message="the engine to notice the server is gone")
        assert engine_proc.proc.poll() is None
    finally:
        subprocess.run(["bash", pg, "start"], check=True, capture_output=True)
    assert time.monotonic() - down < 60
    _all_trading_again(db, sid)
    _finish_and_reconcile(db, sid)
    assert engine_proc.proc.poll() is None
    assert "Traceback" not in engine_proc.output()
