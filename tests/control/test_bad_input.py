"""Bad input through engine.control.actions, engine.reads.queries and the reconcile API (what the
forms and the CLI call): every case is refused with one line that names the field, the right error
class (2 bad input, 3 not allowed, 4 not found) and no row changed."""

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.control import sweeps
from engine.errors import BadInput, NotAllowed, NotFound
from engine.reads import queries, summary
from engine.reads.reconcile import reconcile
from engine.registry.agents import SPECS
from engine.store.models import (
    Agent,
    Command,
    Event,
    NodePosition,
    Order,
    PaperSession,
    Sweep,
    SystemState,
)
from tests.conftest import replay_session

BASE = {"name": "ok", "symbols": "BTC-USD", "strategy": "ma_crossover", "timeframe": "1h"}
HUGE = "1180591620717411303424"
OVERFLOW = "9999-12-31T23:59:59-23:59"
SWEEP = {"strategy": "ma_crossover", "symbols": "BTC-USD", "grid": {"fast": "3:5:1"}}


def _create(**change):
    spec = {**BASE, **change}
    return lambda db, ids: control.create_session(db, spec)


CREATE_CASES = [
    *[(f"name={v!r}", _create(name=v), BadInput, "name must be")
      for v in ("", "   ", "x" * 101, "a\nb", "a\x00b", "tab\there", None, "\r", "o\u2028k")],
    *[(f"symbols={v!r}", _create(symbols=v), BadInput, "symbols")
      for v in ("", ",", "XYZ", "BTC-USD,BTC-USD", "AAPL", " , ", "btc-usd,xyz")],
    ("symbols=mixed eras", _create(symbols="BTC-USD,AAPL", timeframe="1d"), BadInput,
     "symbols: BTC-USD, AAPL have no 1d bars in common"),
    *[(f"strategy={v!r}", _create(strategy=v), BadInput, "strategy must be one of")
      for v in ("", "foo", None, "MA_CROSSOVER", "ma crossover")],
    *[(f"timeframe={v!r}", _create(timeframe=v), BadInput, "timeframe must be one of")
      for v in ("5m", "", "1H", "1w", "daily")],
    *[(f"cash={v!r}", _create(cash=v), BadInput, "cash must be")
      for v in ("abc", "-1", "0", "1e13", "nan", "", "1,000")],
    *[(f"{field}={v!r}", _create(**{field: v}), BadInput, f"{field} must be")
      for field, values in (
          ("fee_bps", ("-1", "1001", "x", "nan", "")),
          ("slippage_bps", ("-0.5", "5000", "y", "nan")),
          ("position_size", ("0", "1.5", "x", "-0.1", "nan")),
          ("stop_loss_pct", ("-1", "100", "x")),
          ("take_profit_pct", ("-1", "20000", "x")),
          ("restart_policy", ("maybe", "", "RESUME ")),
          ("fill_model", ("free", "Realistic", "realistic!")),
          ("impact_bps", ("-1", "10001", "x", "nan", "")),
          ("volume_cap_pct", ("-1", "101", "x", "nan")),
          ("latency_bars", ("-1", "101", "1.5", "x")),
          ("fill_price", ("close", "", "OPEN!")),
          ("cancel_after_bars", ("-1", "100001", "2.5", "x")),
      ) for v in values],
    *[(f"params={v!r}", _create(params=v), BadInput, "(param|unknown param)")
      for v in ({"fast": "x"}, {"fast": "1"}, {"fast": "40"}, {"nope": "1"}, {"fast": "2.5"},
                {"slow": "501"}, {"slow": ""}, {"fast": "nan"})],
    *[(f"source={v!r}", _create(source=v), BadInput, "source must be one of")
      for v in ("paper", "xyz", "replay-live")],
    *[(f"from={v!r}", _create(**{"from": v}), BadInput, "from")
      for v in ("2010-01-01", "garbage", "2019-13-01", "2019-02-30", "2017-07-01 10:00")],
    *[(f"to={v!r}", _create(to=v), BadInput, "to")
      for v in ("2031-01-01", "nope", "2019-10-18", "1999-01-01")],
    ("from after to", _create(**{"from": "2019-06-01", "to": "2019-01-01"}), BadInput,
     "from: 2019-06-01 is after to: 2019-01-01; choose from before it"),
    ("from after the data, no to", _create(**{"from": "2030-01-01"}), BadInput,
     r"from: 2030-01-01 is after the last 1h bar of BTC-USD \(2019-10-17 09:00\); choose "
     "from before it"),
    ("live with a window", _create(source="live", to="2019-01-01"), BadInput,
     "from/to: a live session"),
    *[(f"speed={v!r}", _create(speed=v), BadInput, "speed must be")
      for v in ("0", "-1", "fast", "1e9", "nan", "inf", "max!", "1/s")],
    # issue 20, D8 and D2 through the API: a typed error naming the field, never ValueError
    *[(f"params={v!r}", _create(params=v), BadInput, "params must be a mapping")
      for v in ("fast=3", ["fast", 3], 5)],
    ("params={1: 2}", _create(params={1: 2}), BadInput, "params: every name must be text"),
    ("spec 'x'", lambda db, ids: control.create_session(db, "x"), BadInput,
     "session must be a mapping"),
    *[(f"{field}={OVERFLOW}", _create(**{field: OVERFLOW}), BadInput,
       f"{field} must be a date between") for field in ("from", "to")],
    *[(f"by={v!r}", lambda db, ids, v=v: control.create_session(db, BASE, by=v), BadInput,
       "by must") for v in ("", "x" * 101, "a\nb", None, 5)],
    *[(f"sweep grid={v!r}", lambda db, ids, v=v: sweeps.create_sweep(db, {**SWEEP, "grid": v}),
       BadInput, "grid must be a mapping") for v in ("fast=3:5:1", ["fast"], 3)],
    ("sweep params 'x'", lambda db, ids: sweeps.create_sweep(db, {**SWEEP, "params": "x"}),
     BadInput, "params must be a mapping"),
    ("sweep spec 'x'", lambda db, ids: sweeps.create_sweep(db, "x"), BadInput,
     "sweep must be a mapping"),
    ("sweep step 1e-320", lambda db, ids: sweeps.create_sweep(
        db, {**SWEEP, "grid": {"fee_bps": "0:1000:1e-320"}}), BadInput,
     "param fee_bps: more than 500 values"),
    ("sweep split overflow", lambda db, ids: sweeps.create_sweep(db, {**SWEEP, "split": OVERFLOW}),
     BadInput, "split must be a date between"),
    *[(f"nodes {v!r}", lambda db, ids, v=v: control.save_node_positions(db, v), BadInput,
       match) for v, match in (
          ({"market_data": (float("nan"), 1.0)}, "position of node 'market_data' must be finite"),
          ({"market_data": (1.0, float("inf"))}, "position of node 'market_data' must be finite"),
          ({"market_data": (1e300, 0)}, "position of node 'market_data' must be finite"),
          ({"market_data": ("x", 1)}, "position of node 'market_data' must be two numbers"),
          ({"market_data": (1, 2, 3)}, "position of node 'market_data' must be two numbers"),
          ({"market_data": None}, "position of node 'market_data' must be two numbers"),
          ({"a\nb": (1, 2)}, "node id"), ({"": (1, 2)}, "node id"), ([1, 2], "positions must"),
      )],
]


def _act(fn, *args, **kwargs):
    return lambda db, ids: fn(db, *(ids.get(a, a) if isinstance(a, str) else a
                                    for a in args), **kwargs)


SESSION_CASES = [
    ("action explode", _act(control.session_action, "created", "explode"), BadInput,
     "session action must be one of"),
    *[(f"id {v!r}", _act(control.session_action, v, "start"), BadInput,
       "session id must be a whole number") for v in ("abc", "", "1.5", "0x1", None, "1 2")],
    *[(f"id {v!r}", _act(control.session_action, v, "start"), NotFound, "no session")
      for v in ("0", "-5", "999999", HUGE)],
    ("pause a created session", _act(control.session_action, "created", "pause"), NotAllowed,
     "cannot pause session"),
    ("resume a running one", _act(control.session_action, "running", "resume"), NotAllowed,
     "cannot resume session"),
    ("stop a completed one", _act(control.session_action, "completed", "stop"), NotAllowed,
     "cannot stop session"),
    ("start a completed one", _act(control.session_action, "completed", "start"), NotAllowed,
     "cannot start session"),
    ("bulk explode", _act(control.bulk_session_action, "explode_all"), BadInput,
     "bulk action must be one of"),
    ("archive a running one", _act(control.archive_session, "running"), NotAllowed,
     "cannot archive session"),
    ("archive no session", _act(control.archive_session, "424242"), NotFound, "no session"),
    *[(f"speed {v!r}", _act(control.set_session_speed, "running", v), BadInput,
       "speed must be") for v in ("0", "-2", "warp", "", "1e12", "nan")],
    ("speed of a completed one", _act(control.set_session_speed, "completed", "5"),
     NotAllowed, "cannot change the speed"),
    ("speed until without max", _act(control.set_session_speed, "running", "5",
                                     until="2019-09-01"), BadInput, "until: only a max"),
    ("speed until outside the window", _act(control.set_session_speed, "running", "max",
                                            until="2001-01-01"), BadInput,
     "until must lie in"),
    ("speed until garbage", _act(control.set_session_speed, "running", "max", until="later"),
     BadInput, "until must be an ISO date"),
    ("speed until overflow", _act(control.set_session_speed, "running", "max",
                                  until=OVERFLOW), BadInput, "until must be a date between"),
    ("speed until of an unwindowed one", _act(control.set_session_speed, "unwindowed", "max",
                                              until="2019-09-10"), BadInput,
     "until must lie in the session's window \\(it has none\\)"),
    ("speed then max", _act(control.set_session_speed, "running", "max", until="2019-10-01",
                            then="max"), BadInput, "then must be bars per second"),
    ("speed then without until", _act(control.set_session_speed, "running", "5", then="2"),
     BadInput, "then goes with until"),
    ("speed of no session", _act(control.set_session_speed, HUGE, "5"), NotFound,
     "no session"),
    *[(f"config {v!r}", _act(control.update_session_config, "running", v), BadInput, match)
      for v, match in (({}, "config needs at least one"),
                       ({"colour": "red"}, "unknown setting 'colour'"),
                       ({"fast": "x"}, "param fast must be"),
                       ({"fast": "30"}, "param fast must be below param slow"),
                       ({"slow": "2"}, "param slow must be at least"),
                       ({"fee_bps": "-1"}, "fee_bps must be at least"),
                       ({"position_size": "2"}, "position_size must be at most"),
                       ({"stop_loss_pct": "x"}, "stop_loss_pct must be a number"),
                       ({"take_profit_pct": "-3"}, "take_profit_pct must be at least"),
                       ({"timeframe": "1d"}, "unknown setting 'timeframe'"))],
    ("config of a completed one", _act(control.update_session_config, "completed",
                                       {"fast": "5"}), NotAllowed, "cannot change the"),
]

AGENT_CASES = [
    ("agent nope", _act(control.agent_action, "nope", "start"), NotFound, "no agent 'nope'"),
    ("agent 123", _act(control.agent_action, 123, "start"), NotFound, "no agent 123"),
    ("agent action explode", _act(control.agent_action, "market_data", "explode"), BadInput,
     "agent action must be start or stop"),
    ("start a running agent", _act(control.agent_action, "execution", "start"), NotAllowed,
     "cannot start agent execution"),
    ("no config", _act(control.update_agent_config, "sentiment", {}), BadInput,
     "config needs at least one"),
    ("config of agent nope", _act(control.update_agent_config, "nope", {"interval_s": "1"}),
     NotFound, "no agent"),
    ("reset metrics of nope", _act(control.reset_agent_metrics, "nope"), NotFound, "no agent"),
    *[(f"{agent} {key}={value!r}", _act(control.update_agent_config, agent, {key: value}),
       BadInput, f"(config {key}|unknown config)")
      for agent, key, value in (
          ("market_data", "interval_s", "-1"), ("market_data", "interval_s", "0"),
          ("market_data", "interval_s", "3601"), ("market_data", "interval_s", "x"),
          ("market_data", "interval_s", "nan"), ("market_data", "source", "cloud"),
          ("market_data", "source", ""), ("market_data", "exchange", "nonexistent"),
          ("market_data", "exchange", "Coinbase Pro"), ("market_data", "stale_after_bars", "0"),
          ("market_data", "bars_per_tick", "5"), ("market_data", "colour", "red"),
          ("sentiment", "rss_feeds", "/etc/passwd"), ("sentiment", "rss_feeds", "file:///x"),
          ("sentiment", "rss_feeds", "ftp://x/feed"), ("sentiment", "rss_feeds", "../x.xml"),
          ("sentiment", "headlines_csv", "/etc/passwd"),
          ("sentiment", "headlines_csv", "http://x/a.csv"),
          ("sentiment", "lookback_hours", "0"), ("sentiment", "lookback_hours", "8761"),
          ("strategy", "interval_s", "0.01"), ("strategy", "fast", "3"),
          ("execution", "alert_drawdown_pct", "0"), ("execution", "alert_drawdown_pct", "101"),
          ("execution", "alert_loss_streak", "0"), ("execution", "alert_loss_streak", "1.5"),
          ("execution", "alert_trade_notional", "0"), ("execution", "alert_trade_notional", "x"),
      )],
    ("system explode", _act(control.system_action, "explode"), NotAllowed,
     "cannot explode system"),
    ("system start while running", _act(control.system_action, "start"), NotAllowed,
     "cannot start system"),
]

READ_CASES = [
    *[(f"events limit={v}", lambda db, ids, v=v: queries.events(db, limit=v), BadInput,
       "limit must be between") for v in (0, -1, 5001, 10**9)],
    *[(f"log id {v!r}", lambda db, ids, v=v: summary.log_tail(db, Path("/tmp"), v), BadInput,
       "log id") for v in ("../etc/passwd", "engine\n", "ENGINE", "session-0", "session-x",
                           "a" * 100, "/etc/passwd", "session-1/../x", "", "x y")],
    *[(f"log id {v!r}", lambda db, ids, v=v: summary.log_tail(db, Path("/tmp"), v), NotFound,
       "no agent or session") for v in ("session-999", "nosuchagent")],
    *[(f"log lines={v}", lambda db, ids, v=v: summary.log_tail(db, Path("/tmp"), "engine",
                                                               lines=v), BadInput,
       "lines must be between") for v in (0, 10_001)],
    ("log level loud", lambda db, ids: summary.log_tail(db, Path("/tmp"), "engine",
                                                        level="LOUD"), BadInput,
     "level must be one of"),
    *[(f"session show {v!r}", lambda db, ids, v=v: queries.session_document(db, v), NotFound,
       "no session") for v in ("0", HUGE, "-1")],
    *[(f"session trades {v!r}", lambda db, ids, v=v: queries.trades(db, v), BadInput,
       "session id must be") for v in ("abc", "1.5", "")],
    *[(f"reconcile {v!r}", lambda db, ids, v=v: reconcile(db, v), exc, match)
      for v, exc, match in (("abc", BadInput, "session id must be"),
                            ("0", NotFound, "no session"), (HUGE, NotFound, "no session"))],
    ("reconcile a created session", lambda db, ids: reconcile(db, ids["unwindowed"]),
     BadInput, "session"),
]

CASES = CREATE_CASES + SESSION_CASES + AGENT_CASES + READ_CASES


def test_there_are_at_least_150_cases():
    assert len(CASES) >= 150


@pytest.fixture
def world(db):
    """Registered agents (running), the system running, and sessions in each state."""
    with Session(db) as s:
        s.add(SystemState(status="running"))
        for kind, spec in SPECS.items():
            s.add(Agent(id=kind, name=spec.title, kind=kind, status="running"))
        s.commit()
    running = replay_session(db, {"symbols": "BTC-USD", "from": "2019-09-01"}, to_end=False)
    created = control.create_session(db, {**BASE, "name": "idle"}).id
    completed = replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d"},
                               status="completed")
    with Session(db) as s:  # a session with no window at all (from before the session clock)
        s.execute(update(PaperSession).where(PaperSession.id == created)
                  .values(window_from=None))
        s.commit()
    return {"running": str(running), "created": str(created), "completed": str(completed),
            "unwindowed": str(created)}


def _state(db) -> tuple:
    with Session(db) as s:
        counts = tuple(s.exec(select(func.count()).select_from(m)).one()
                       for m in (PaperSession, Command, Event, Order, Sweep, NodePosition))
        agents = tuple((a.id, str(a.config), a.status) for a in s.exec(select(Agent)
                                                                     .order_by(Agent.id)))
        sessions = tuple((p.id, p.status, p.speed, str(p.params)) for p in s.exec(
            select(PaperSession).order_by(PaperSession.id)))
    return counts, agents, sessions


@pytest.mark.parametrize(("call", "error", "match"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_the_field_and_changes_nothing(world, db, call, error,
                                                                  match):
    before = _state(db)
    with pytest.raises(error, match=f"^{match}") as raised:
        call(db, world)
    assert "\n" not in str(raised.value)
    assert type(raised.value) is error or issubclass(type(raised.value), error)
    assert _state(db) == before
