"""The engine side of the control channel (engine/commands.py) on a real database: the master
switch, bulk session commands, and stop with close positions."""

import pytest
from sqlmodel import Session, select

from engine.config import load_settings
from engine.control import actions as control
from engine.fleet.commands import apply_pending
from engine.fleet.runtime import EngineProcess
from engine.market import catalog
from engine.store.models import Agent, Event, Fill, Order, PaperSession, Position, SystemState
from tests.conftest import replay_session, store_bars


@pytest.fixture
def rt(db, env):
    """An engine process's state and command handling, without its scheduler loop."""
    process = EngineProcess(load_settings(env))
    process.recover(None)
    process._schedule()
    yield process
    for agent in process.agents.values():
        agent.on_stop()


def _apply(rt, queued: int) -> str:
    apply_pending(rt)
    return control.wait_for(rt.db, queued, 1).message


def _statuses(db) -> dict[int, tuple[str, bool]]:
    with Session(db) as s:
        return {r.id: (r.status, r.paused_by_system) for r in s.exec(select(PaperSession))}


def test_master_switch_pauses_and_resumes_only_what_it_paused(rt, db):
    a = replay_session(db, {"symbols": "ETH-USD", "timeframe": "1d"}, to_end=False)
    b = replay_session(db, {"symbols": "AAPL", "timeframe": "1d"}, to_end=False)
    mine = replay_session(db, {"symbols": "IBM", "timeframe": "1d"}, to_end=False,
                          status="paused")
    assert _apply(rt, control.system_action(db, "pause")) == \
        "system is paused; 2 session(s) changed"
    assert _statuses(db) == {a: ("paused", True), b: ("paused", True), mine: ("paused", False)}
    _apply(rt, control.system_action(db, "resume"))
    assert _statuses(db) == {a: ("running", False), b: ("running", False),
                             mine: ("paused", False)}
    _apply(rt, control.system_action(db, "stop"))
    with Session(db) as s:
        agents = {r.id: r.status for r in s.exec(select(Agent))}
        assert s.get(SystemState, 1).status == "stopped"
    assert set(agents.values()) == {"stopped"}
    assert _statuses(db)[a] == ("paused", True)
    _apply(rt, control.system_action(db, "start"))
    with Session(db) as s:
        assert {r.status for r in s.exec(select(Agent))} == {"running"}
    assert _statuses(db) == {a: ("running", False), b: ("running", False),
                             mine: ("paused", False)}


def test_bulk_commands_touch_every_session_they_apply_to(rt, db):
    running = [replay_session(db, {"symbols": s, "timeframe": "1d"}, to_end=False)
               for s in ("ETH-USD", "MSFT")]
    created = control.create_session(db, {"name": "c", "symbols": "GOOG", "timeframe": "1d",
                                          "strategy": "blend"}).id
    assert _apply(rt, control.bulk_session_action(db, "pause_all")) == "pause all: 2 session(s)"
    assert _apply(rt, control.bulk_session_action(db, "resume_all")) == \
        "resume all: 2 session(s)"
    assert _apply(rt, control.bulk_session_action(db, "stop_all")) == "stop all: 3 session(s)"
    assert {_statuses(db)[i][0] for i in (*running, created)} == {"stopped"}


def test_stop_with_close_positions_sells_at_the_clocks_close(rt, db):
    store_bars(db, ("BTC-USD", "1h"))
    frame = catalog.load("BTC-USD", "1h")
    sid = replay_session(db, {"symbols": "BTC-USD", "timeframe": "1h", "position_size": 1,
                              "from": frame["ts"].iloc[-400].isoformat(), "fee_bps": 10,
                              "slippage_bps": 5}, to_end=False)
    rt.book.sync(0.0)
    now = 0.0
    while True:  # trade until the session holds BTC
        now += 1.0
        rt.book.tick(now)
        with Session(db) as s:
            held = s.get(Position, (sid, "BTC-USD"))
            if held is not None and held.qty > 0:
                break
    with Session(db) as s:
        row = s.get(PaperSession, sid)
        cash, qty, last_bar = row.cash, held.qty, row.last_bar_at
        next_seq = max(o.seq for o in s.exec(select(Order).where(Order.session_id == sid))) + 1
    close = float(frame.set_index("ts")["close"][last_bar])
    _apply(rt, control.session_action(db, sid, "stop", close_positions=True))
    with Session(db) as s:
        row = s.get(PaperSession, sid)
        fill = s.exec(select(Fill).where(Fill.session_id == sid).order_by(Fill.id.desc())).first()
        order = s.get(Order, fill.order_id)
        position = s.get(Position, (sid, "BTC-USD"))
    price = close * (1 - 5 / 10_000)
    assert (order.seq, order.side, order.reason, order.status) == (next_seq, "sell",
                                                                   "close on stop", "filled")
    assert (fill.qty, fill.bar_ts) == (qty, last_bar)
    assert fill.price == pytest.approx(price, rel=1e-12)
    assert fill.fee == pytest.approx(qty * price * 10 / 10_000, rel=1e-12)
    assert position.qty == 0
    assert row.status == "stopped"
    assert row.cash == pytest.approx(cash + qty * price - fill.fee, rel=1e-12)
    assert row.equity == pytest.approx(row.cash, rel=1e-12)


def test_alerts_fire_once_as_events_through_the_agents(rt, db):
    store_bars(db, ("BTC-USD", "1h"))
    _apply(rt, control.update_agent_config(db, "execution", {
        "alert_drawdown_pct": "5", "alert_loss_streak": "3", "alert_trade_notional": "1050"}))
    start = catalog.load("BTC-USD", "1h")["ts"].iloc[-3000].isoformat()
    sid = replay_session(db, {"symbols": "BTC-USD", "timeframe": "1h", "position_size": 1,
                              "cash": 1000, "speed": "max", "from": start}, to_end=False)
    strategy, execution = rt.agents["strategy"], rt.agents["execution"]
    while _statuses(db)[sid][0] == "running":
        strategy.tick()
        execution.tick()
    with Session(db) as s:
        row = s.get(PaperSession, sid)
        fills = s.exec(select(Fill).where(Fill.session_id == sid).order_by(Fill.id)).all()
        kinds = [e.kind for e in s.exec(select(Event).where(Event.source == f"session-{sid}"))]
    assert row.max_drawdown_pct > 5
    assert kinds.count("alert_drawdown") == 1
    large = sum(f.qty * f.price >= 1050 for f in fills)
    assert large > 0
    assert kinds.count("alert_large_trade") == large
    streak, streaks = 0, 0
    for f in fills:
        if f.side == "sell":
            streak = streak + 1 if f.realized_pnl <= 0 else 0
            streaks += streak == 3
    assert streaks > 0
    assert kinds.count("alert_loss_streak") == streaks
