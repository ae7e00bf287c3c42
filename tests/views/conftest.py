"""AppTest fixtures: the dashboard against a database filled by the engine's own code."""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from engine.agents import AGENT_TYPES
from engine.agents.base import AgentContext
from engine.config import load_settings
from engine.control import actions as control
from engine.core.lifecycle import AgentStatus
from engine.core.trader import Outbox
from engine.fleet.commands import apply_pending
from engine.logs import get_logger
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Agent, Command, PaperSession, SystemState
from engine.trading.clock import SessionBook
from engine.trading.store import Batch
from tests.conftest import (
    ROOT,
    create_pg_database,
    drop_pg_database,
    recreate_pg_database,
    replay_session,
    store_bars,
)

APP = str(ROOT / "app.py")
RUNNING_BARS = 300  # how far the running session's clock is advanced


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


class _AllRunning:
    """The pipeline as the agents see it in these tests: every stage running."""

    def running(self, kind: str) -> bool:
        return True


@dataclass
class CommandsOnly:
    """Enough of the engine process to apply session commands with engine.fleet.commands."""

    db: object
    logs_dir: Path
    agents: dict = field(default_factory=dict)


def apply_commands(db, env) -> int:
    """Apply the queued commands as the engine does (session commands only)."""
    return apply_pending(CommandsOnly(db, load_settings(env).logs_dir))


def advance(db, book: SessionBook, sid: int, bars: int) -> None:
    """Trade `bars` bar times of a running session and commit them, as the engine does."""
    clock = book.load(sid)
    batch = Batch(sid, clock.trader, Outbox())
    clock.advance(bars, batch.out)
    book.commit([batch])


def _agents(db, env, book: SessionBook) -> list:
    """Every agent type registered, running, ticked once, with a line in its log."""
    settings = load_settings(env)
    agents = []
    for cls in AGENT_TYPES.values():
        with session_scope(db) as s:
            s.add(Agent(id=cls.kind, name=cls.title, kind=cls.kind, config={}, state={},
                        status=AgentStatus.RUNNING))
        with Session(db) as s:
            row = s.get(Agent, cls.kind)
        logger = get_logger(settings.logs_dir, cls.kind, pin=True)
        agent = cls(row, AgentContext(db, settings, logger, book=book, stages=_AllRunning()))
        agent.on_start()
        agent.status = AgentStatus.RUNNING
        agents.append(agent)
    for agent in agents:
        agent.tick()
        agent.log.info("tick log line from %s", agent.id)
    return agents


def _fill(db, env: dict) -> dict[str, int]:
    """Shipped bars stored; a running session part-way through its window, a completed one,
    a created one and a stopped one; every agent registered, running and ticked once; the
    system running (no engine process: it reads as offline)."""
    store_bars(db)
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
    running = replay_session(db, {"name": "trend", "symbols": "BTC-USD", "timeframe": "1h",
                                  "params": {"fast": "3", "slow": "8"}}, to_end=False)
    book = SessionBook(db)
    advance(db, book, running, RUNNING_BARS)
    completed = replay_session(db, {"name": "finished", "symbols": "BTC-USD",
                                    "timeframe": "1d", "from": "2019-01-01",
                                    "params": {"fast": "5", "slow": "20"}})
    created = control.create_session(db, {"name": "idle", "symbols": "AAPL",
                                          "timeframe": "1d", "strategy": "blend"}).id
    stopped = control.create_session(db, {"name": "done", "symbols": "ETH-USD",
                                          "timeframe": "1d", "strategy": "rsi_reversion"}).id
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == stopped).values(
            status="stopped"))
    _agents(db, env, SessionBook(db))
    return {"running": running, "completed": completed, "created": created,
            "stopped": stopped}


@dataclass(frozen=True)
class Filled:
    """A filled database built once per test module, copied for each test."""

    home: Path  # its PAPERDESK_HOME (the SQLite file and the agents' logs)
    url: str  # its database URL
    ids: dict[str, int]


@pytest.fixture(scope="module")
def filled_template(tmp_path_factory, pg_template) -> Iterator[Filled]:
    home = tmp_path_factory.mktemp("filled") / "home"
    env = {**os.environ, "PAPERDESK_HOME": str(home), "PAPERDESK_AUTOSTART": "0"}
    if pg_template:
        env["DATABASE_URL"] = create_pg_database(pg_template)
    else:
        env.pop("DATABASE_URL", None)
    url = load_settings(env).database_url
    db = get_engine(url)
    migrate(db)
    ids = _fill(db, env)
    db.dispose()
    yield Filled(home, url, ids)
    if pg_template:
        drop_pg_database(url)


@pytest.fixture
def filled(filled_template: Filled, db, env) -> dict[str, int]:
    """This test's database and logs as a copy of the module's filled one."""
    url = load_settings(env).database_url
    db.dispose()
    home = Path(env["PAPERDESK_HOME"])
    if url.startswith("postgresql"):
        recreate_pg_database(url, template_url=filled_template.url)
    for path in home.glob("paperdesk.db*"):
        path.unlink()
    shutil.copytree(filled_template.home, home, dirs_exist_ok=True)  # the SQLite file, logs
    return dict(filled_template.ids)


def answer_dialog(at: AppTest, confirm: bool) -> AppTest:
    """Press Confirm or Cancel in the open confirmation dialog."""
    key = "confirm_ok" if confirm else "confirm_cancel"
    return next(b for b in at.button if b.key == key).click().run()


def dialog_titles(at: AppTest) -> list[str]:
    """The titles of the dialogs drawn in the last run."""
    return [d.proto.dialog.title for d in at.get("dialog")]
