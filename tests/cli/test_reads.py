"""The CLI's read commands (engine.cli.reads) run on plain SQL: they import neither SQLAlchemy,
SQLModel, pandas nor numpy, and print what the ORM reads the dashboard uses (engine.reads.queries,
engine.reads.status) give for the same real database, as the CLI printed them before: JSON
through emit_json, tables cell for cell as pandas' to_string wrote them."""

import io
import json
from contextlib import redirect_stdout
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.cli.output import emit_json, shown_value
from engine.reads import queries, status
from engine.registry.agents import SPECS
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import Agent, PaperSession, SystemState
from engine.store.types import utcnow
from tests.cli.test_fast import _imported
from tests.conftest import cli, replay_session, run_main, store_bars

FORBIDDEN = ("sqlalchemy", "sqlmodel", "pandas", "numpy")
READS = [["sessions"], ["sessions", "--all", "--json"], ["session", "show", "SID"],
         ["session", "show", "SID", "--json"], ["session", "trades", "SID"],
         ["session", "trades", "SID", "--json", "--limit", "3", "--offset", "2"], ["agents"],
         ["agents", "--json"], ["agent", "show", "execution"], ["health", "--json"], ["health"],
         ["events"], ["events", "--json", "--severity", "error"], ["news", "list", "--json"],
         ["data", "list"]]


@pytest.fixture
def desk(db) -> dict:
    """Agents (one failing its ticks), a traded session holding positions in two symbols, an
    archived one, and an error event."""
    now = utcnow()
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for i, (kind, spec) in enumerate(SPECS.items()):
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running", ticks=10 * i,
                        items_processed=1234 * i, last_tick_ms=1.23456 * i,
                        consecutive_errors=int(kind == "sentiment"), errors=i,
                        last_active_at=now - timedelta(seconds=i), config={"n": i},
                        summary={"errors_last_hour": i}))
    store_bars(db, ("BTC-USD", "1d"), ("ETH-USD", "1d"))
    traded = replay_session(db, {"symbols": "BTC-USD,ETH-USD", "timeframe": "1d",
                                 "params": {"fast": 5, "slow": 20}})
    archived = replay_session(db, {"symbols": "AAPL", "timeframe": "1d"}, to_end=False)
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == archived).values(archived=True))
        record_event(s, "execution", "failed", "a fill failed\nwith two lines", "error")
    return {"sid": str(traded), "archived": archived}


def _json(value) -> object:
    """What the CLI printed for `value` (a DataFrame or record) before: emit_json."""
    out = io.StringIO()
    with redirect_stdout(out):
        emit_json(value)
    return json.loads(out.getvalue())


def _cells(text: str) -> list[list[str]]:
    """A table's words, missing values as —."""
    missing = {"NaN": "—", "None": "—", "NaT": "—"}
    return [[missing.get(word, word) for word in line.split()] for line in text.splitlines()]


def _pandas_table(frame, columns: list[str]) -> str:
    """The table as the CLI printed it through pandas before."""
    return frame[columns].to_string(index=False, float_format=lambda v: f"{v:,.2f}")


def _record_lines(record) -> list[str]:
    """A record as `show` prints it: the word every surface shows as its status, the
    lifecycle's status next, then every other field in order."""
    rest = {k: v for k, v in asdict(record).items() if k not in ("status", "condition")}
    return [f"status: {record.condition}", f"lifecycle_status: {record.status}",
            *(f"{k}: {shown_value(k, v)}" for k, v in rest.items())]


def _run(args: list[str], sid: str):
    result = run_main(*[sid if a == "SID" else a for a in args])
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_read_commands_import_no_orm_pandas_or_numpy(desk, env, args):
    modules = _imported(env, *[desk["sid"] if a == "SID" else a for a in args])
    assert "engine.cli.reads" in modules
    assert [m for m in modules if m.split(".")[0] in FORBIDDEN] == []


def test_status_loads_no_read_and_a_read_no_queueing(desk, env):
    assert "engine.reads.plain" not in _imported(env, "status")
    assert "engine.control.queueing" not in _imported(env, "sessions")


def test_sessions_are_the_orm_reads(desk, db):
    sid = desk["sid"]
    shown = queries.sessions(db)
    assert json.loads(_run(["sessions", "--json"], sid)) == _json(shown)
    every = queries.sessions(db, include_archived=True, include_sweeps=True)
    assert desk["archived"] in set(every["id"]) - set(shown["id"])
    assert json.loads(_run(["sessions", "--all", "--json"], sid)) == _json(every)
    columns = ["id", "name", "status", "strategy", "symbols", "timeframe", "equity",
               "return_pct", "trade_count", "why"]
    worded = shown.assign(status=shown["condition"])  # the word every surface shows
    assert _cells(_run(["sessions"], sid)) == _cells(_pandas_table(worded, columns))


def test_session_show_is_the_orm_document(desk, db):
    sid = desk["sid"]
    document = queries.session_document(db, sid)
    assert len(document.positions) == 2  # two symbols held, valued at the session's clock
    assert json.loads(_run(["session", "show", sid, "--json"], sid)) == _json(document)
    assert _run(["session", "show", sid], sid).splitlines() == _record_lines(document)


def test_session_trades_are_the_orm_fills_a_page_at_a_time(desk, db):
    sid = desk["sid"]
    every = queries.trades(db, sid, limit=None)
    assert len(every) > 10
    listed = json.loads(_run(["session", "trades", sid, "--json", "--limit", "100000"], sid))
    assert listed == _json(every)
    page = json.loads(_run(["session", "trades", sid, "--json", "--limit", "4", "--offset",
                            "3"], sid))
    assert page == listed[3:7]
    newest = _run(["session", "trades", sid, "--limit", "5"], sid)
    columns = ["time", "symbol", "side", "qty", "price", "fee", "order_id", "reason", "by"]
    assert _cells(newest) == _cells(_pandas_table(every.head(5), columns))


def test_agents_and_health_are_the_orm_reads(desk, db):
    sid = desk["sid"]
    cards = queries.agents(db)
    assert json.loads(_run(["agents", "--json"], sid)) == _json(cards)
    columns = ["id", "status", "ticks", "items_processed", "errors", "last_tick_ms",
               "last_active_at"]
    worded = cards.assign(status=cards["condition"])  # the word every surface shows
    assert _cells(_run(["agents"], sid)) == _cells(_pandas_table(worded, columns))
    card = status.agent(db, "sentiment")
    assert card.condition == "degraded"
    assert json.loads(_run(["agent", "show", "sentiment", "--json"], sid)) == _json(card)
    assert _run(["agent", "show", "sentiment"], sid).splitlines() == _record_lines(card)
    report = json.loads(_run(["health", "--json"], sid))
    assert report == _json(status.as_dict(status.health(db)))
    assert report["errors_last_hour"] > 1  # the error event and the agents' failed ticks


def test_events_are_the_orm_feed(desk, db):
    sid = desk["sid"]
    for args, kwargs in ((["events"], {"limit": 50}),
                         (["events", "--limit", "2"], {"limit": 2}),
                         (["events", "--severity", "error"], {"severity": ["error"]}),
                         (["events", "--source", "execution"], {"source": "execution"})):
        feed = queries.events(db, **kwargs)
        assert len(feed)
        assert json.loads(_run([*args, "--json"], sid)) == _json(feed)
        lines = _run(args, sid).splitlines()
        assert len(lines) == len(feed)  # one line each, a message's line break escaped
        assert lines[0].startswith(f"{feed['ts'][0]:%Y-%m-%d %H:%M:%S} {feed['severity'][0]}")


@pytest.mark.parametrize(("args", "code", "start"), [
    (["session", "show", "999"], 4, "error: no session 999"),
    (["session", "trades", "SID", "--limit", "0"], 2, "error: limit must be between 1 and"),
    (["session", "trades", "SID", "--offset", "-1"], 2, "error: offset must be between 0 and"),
    (["agent", "show", "nope"], 4, "error: no agent 'nope'"),
    (["events", "--limit", "5001"], 2, "error: limit must be between 1 and 5000"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_read_refusals_are_one_line_with_their_exit_code(desk, env, args, code, start):
    result = cli(env, *[desk["sid"] if a == "SID" else a for a in args])
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1
