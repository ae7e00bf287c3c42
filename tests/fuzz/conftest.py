"""The fuzz suites' hypothesis profile and the world they run in.

Profile `paperdesk-fuzz`: examples per test from PAPERDESK_FUZZ_EXAMPLES (unset: the defaults
each suite names, a few thousand in all), no per-example deadline (a refused fast-forward may
take a while), and the example database in `.hypothesis/examples` at the repository root
(gitignored): a failure found once is replayed first on the next run, on this machine.

`world`: one database per test module (SQLite, or PostgreSQL with PAPERDESK_TEST_PG_URL) with
every agent registered and running, the system running, sessions in each state, a queued
sweep, stored bars and a log per agent; examples share it, so what one example creates the
next may act on."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import text, update

from engine.config import load_settings
from engine.control import actions as control
from engine.control import sweeps
from engine.logs import get_logger
from engine.registry.agents import SPECS
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Agent, PaperSession, SystemState
from tests.conftest import ROOT, create_pg_database, drop_pg_database, replay_session, store_bars

EXAMPLES_ENV = "PAPERDESK_FUZZ_EXAMPLES"
settings.register_profile(
    "paperdesk-fuzz",
    deadline=None,
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
    print_blob=True,  # a failure prints the line that reproduces it (@reproduce_failure)
)


def fuzz_settings(default_examples: int) -> settings:
    """The profile with `default_examples` per test, or PAPERDESK_FUZZ_EXAMPLES."""
    wanted = os.environ.get(EXAMPLES_ENV, "").strip()
    return settings(settings.get_profile("paperdesk-fuzz"),
                    max_examples=int(wanted) if wanted else default_examples)


# The tables a refused command must leave as they were.
TABLES = ("paper_session", "sweep", "command", "event", "trade_order", "fill", "node_position",
          "alert_ack", "login_failure", "agent", "equity_snapshot")


def row_counts(db) -> tuple[int, ...]:
    query = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in TABLES)
    with db.connect() as c:
        return tuple(c.execute(text(query)).one())


@dataclass(frozen=True)
class World:
    env: dict  # the environment of the CLI (PAPERDESK_HOME, DATABASE_URL)
    db: object  # its database engine
    ids: dict  # session and sweep ids by what they are

    def __iter__(self):
        return iter((self.env, self.db, self.ids))

    def __repr__(self) -> str:  # a failure report shows this, not the whole environment
        return f"World({self.db!r})"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis's report
        printer.text(repr(self))


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_template):
    """(env, db, ids): PaperDesk's home and database for this module, filled (see above)."""
    home = tmp_path_factory.mktemp("fuzz") / "home"
    env = {"PAPERDESK_HOME": str(home), "PAPERDESK_AUTOSTART": "0"}
    if pg_template:
        env["DATABASE_URL"] = create_pg_database(pg_template)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DATABASE_URL", raising=False)
        patch.delenv("PAPERDESK_NOTIFY_URLS", raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        db = get_engine(load_settings().database_url)
        migrate(db)
        yield World({**os.environ}, db, _fill(db, load_settings().logs_dir))
    if pg_template:
        drop_pg_database(env["DATABASE_URL"])


def _fill(db, logs_dir: Path) -> dict[str, int]:
    store_bars(db, ("ETH-USD", "1d"), ("AAPL", "1d"))
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for kind, spec in SPECS.items():
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running"))
    for log_id in (*SPECS, "engine"):
        get_logger(logs_dir, log_id, pin=True).info("a line of %s's log", log_id)
    running = replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d",
                                  "from": "2019-06-01"}, to_end=False)
    completed = replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d",
                                    "from": "2019-09-01"}, status="completed")
    created = control.create_session(db, {"name": "idle", "symbols": "AAPL",
                                          "timeframe": "1d", "strategy": "blend"}).id
    stopped = control.create_session(db, {"name": "done", "symbols": "ETH-USD",
                                          "timeframe": "1d", "strategy": "rsi_reversion"}).id
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == stopped)
                  .values(status="stopped"))
    sweep = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "ETH-USD",
                                     "timeframe": "1d", "grid": {"fast": "3:5:1"}}).id
    return {"running": running, "completed": completed, "created": created,
            "stopped": stopped, "sweep": sweep}
