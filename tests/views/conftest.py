"""AppTest fixtures: the dashboard against a database filled by the engine's own code."""

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from engine import control
from engine.config import load_settings
from engine.db import session_scope
from engine.lockstep import Lockstep
from engine.models import Agent, Command, PaperSession, SystemState
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def run_page(page: str, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"views/{page}.py")
    return at.run()


def commands(db) -> list[tuple]:
    with Session(db) as s:
        return [(c.target, c.target_id, c.action, c.payload)
                for c in s.exec(select(Command).order_by(Command.id))]


def count_sessions(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(PaperSession)).one()


@pytest.fixture
def filled(db, env):
    """Agents registered and ticked through real replay data; a running, a created and a
    stopped session; the system running (no engine process: it reads as offline)."""
    running = control.create_session(db, {"name": "trend", "symbols": "BTC-USD",
                                          "strategy": "ma_crossover",
                                          "params": {"fast": "3", "slow": "8"}}).id
    created = control.create_session(db, {"name": "idle", "symbols": "AAPL",
                                          "timeframe": "1d", "strategy": "blend"}).id
    stopped = control.create_session(db, {"name": "done", "symbols": "ETH-USD",
                                          "timeframe": "1d", "strategy": "rsi_reversion"}).id
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        s.execute(update(PaperSession).where(PaperSession.id == running).values(
            status="running"))
        s.execute(update(PaperSession).where(PaperSession.id == stopped).values(
            status="stopped"))
    runner = Lockstep(db, load_settings(env), {"market_data": {"warmup_bars": 30}})
    with session_scope(db) as s:
        s.execute(update(Agent).values(status="running"))
    for _ in range(80):
        runner.step()
    for agent in runner.agents:
        agent.flush_metrics()
        agent.log.info("tick log line from %s", agent.id)
    return {"running": running, "created": created, "stopped": stopped}
