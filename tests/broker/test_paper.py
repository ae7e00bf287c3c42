"""Property tests of the paper broker through the engine's real path: working orders stored
as pending, the session's clock run over stored bars by the trading core, results persisted."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from engine.core.bars import BarData
from engine.core.fills import OrderTerms, base_price, slipped
from engine.market.bars import write_bars
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Fill, Order, PaperSession, Position
from engine.trading.clock import run_to_end

# Parameters under which the strategy never signals within these short series: only the
# orders placed by the test trade.
QUIET = {"fast": 199, "slow": 500}

T0 = datetime(2020, 1, 1, tzinfo=UTC)


@st.composite
def bar_series(draw):
    n = draw(st.integers(3, 25))
    bars = []
    for i in range(n):
        o = draw(st.floats(1, 1000))
        c = draw(st.floats(1, 1000))
        hi = max(o, c) * (1 + draw(st.floats(0, 0.2)))
        lo = min(o, c) * (1 - draw(st.floats(0, 0.2)))
        bars.append(BarData(T0 + timedelta(hours=i), o, hi, lo, c, draw(st.floats(0, 1e6))))
    return bars


@st.composite
def order_list(draw, n_bars):
    orders = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["market", "market", "limit", "stop"]))
        orders.append({
            "decision": draw(st.integers(0, n_bars - 1)),
            "side": draw(st.sampled_from(["buy", "sell"])),
            "order_type": kind,
            "qty": draw(st.floats(0.001, 50)),
            "level": draw(st.floats(1, 1000)),
        })
    return orders


def _setup(url, bars, orders, cash, fee_bps, slippage_bps):
    db = get_engine(url)
    migrate(db)
    write_bars(db, "BTC-USD", "1h", bars)
    with session_scope(db) as s:
        session = PaperSession(name="p", strategy="ma_crossover", params=QUIET,
                               symbols="BTC-USD", timeframe="1h", starting_cash=cash, cash=cash,
                               equity=cash, marked_equity=cash, peak_equity=cash,
                               fee_bps=fee_bps, slippage_bps=slippage_bps, status="running",
                               window_from=bars[0].ts, window_to=bars[-1].ts, speed=None,
                               bars_total=len(bars))
        s.add(session)
        s.flush()
        s.add_all(working_orders(session.id, bars, orders))
    return db, session.id


def working_orders(session_id: int, bars: list[BarData], orders: list[dict]) -> list[Order]:
    """The test's orders, working on BTC-USD, each decided on its bar."""
    return [Order(
        session_id=session_id, seq=i, symbol="BTC-USD", side=o["side"],
        order_type=o["order_type"], qty=o["qty"],
        limit_price=o["level"] if o["order_type"] == "limit" else None,
        stop_price=o["level"] if o["order_type"] == "stop" else None,
        decision_bar_ts=bars[o["decision"]].ts, reason="test",
    ) for i, o in enumerate(orders, start=1)]


def fill_price(order: OrderTerms, bar: BarData, slippage_bps: float) -> float | None:
    """The price `order` fills at on `bar` under flat slippage (no cap, latency or impact),
    or None when it does not fill there."""
    found = base_price(order, bar)
    if found is None:
        return None
    price, slips = found
    return slipped(price, order.side, slippage_bps) if slips else price


def _fills(db) -> list[Fill]:
    with Session(db) as s:
        return list(s.exec(select(Fill).order_by(Fill.id)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cash=st.floats(10, 1e6), fee_bps=st.floats(0, 100),
       slippage_bps=st.floats(0, 100))
def test_broker_invariants(data, cash, fee_bps, slippage_bps):
    bars = data.draw(bar_series())
    orders = data.draw(order_list(len(bars)))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'b.db'}"
        db, sid = _setup(url, bars, orders, cash, fee_bps, slippage_bps)
        run_to_end(db, sid)
        by_ts = {b.ts: b for b in bars}
        with Session(db) as s:
            session = s.get(PaperSession, sid)
            fills = s.exec(select(Fill)).all()
            placed = {o.id: o for o in s.exec(select(Order))}
            position = s.get(Position, (sid, "BTC-USD"))
        get_engine(url).dispose()

    assert session.cash >= 0
    held = sum(f.qty if f.side == "buy" else -f.qty for f in fills)
    assert (position.qty if position else 0.0) == pytest.approx(held, abs=1e-9)
    assert held >= -1e-9
    last_close = bars[-1].close
    assert session.status == "completed"
    assert session.equity == pytest.approx(session.cash + held * last_close, rel=1e-9, abs=1e-6)
    for fill in fills:
        order = placed[fill.order_id]
        assert order.status == "filled"
        assert fill.fee == pytest.approx(fee_bps / 10_000 * fill.qty * fill.price, rel=1e-9)
        assert fill.bar_ts > order.decision_bar_ts
        bar = by_ts[fill.bar_ts]
        terms = OrderTerms(order.side, order.order_type, order.decision_bar_ts,
                           order.limit_price, order.stop_price)
        assert fill.price == pytest.approx(fill_price(terms, bar, slippage_bps))
        earlier = [b for b in bars if order.decision_bar_ts < b.ts < fill.bar_ts]
        assert all(fill_price(terms, b, slippage_bps) is None for b in earlier)
    spent = sum(f.qty * f.price + f.fee for f in fills if f.side == "buy")
    received = sum(f.qty * f.price - f.fee for f in fills if f.side == "sell")
    assert session.cash == pytest.approx(cash - spent + received, rel=1e-9, abs=1e-6)


def test_market_order_fills_next_open_with_slippage_and_fee(tmp_path):
    bars = [BarData(T0 + timedelta(hours=i), 100 + i, 110 + i, 90 + i, 105 + i, 1.0)
            for i in range(3)]
    orders = [{"decision": 0, "side": "buy", "order_type": "market", "qty": 2, "level": 0}]
    db, sid = _setup(f"sqlite:///{tmp_path / 'm.db'}", bars, orders, 10_000, 10, 50)
    run_to_end(db, sid)
    (fill,) = _fills(db)
    assert fill.bar_ts == bars[1].ts
    assert fill.price == pytest.approx(101 * 1.005)
    assert fill.fee == pytest.approx(2 * 101 * 1.005 * 0.001)


def test_paused_sessions_orders_are_held(tmp_path):
    bars = [BarData(T0 + timedelta(hours=i), 100, 110, 90, 100, 1.0) for i in range(3)]
    orders = [{"decision": 0, "side": "buy", "order_type": "market", "qty": 1, "level": 0}]
    db, sid = _setup(f"sqlite:///{tmp_path / 'h.db'}", bars, orders, 1000, 0, 0)
    with session_scope(db) as s:
        s.get(PaperSession, sid).status = "paused"
    run_to_end(db, sid)
    assert _fills(db) == []
    with Session(db) as s:
        assert s.exec(select(Order.status)).one() == "pending"
        assert s.get(PaperSession, sid).bars_done == 0


def test_buy_is_cut_to_the_cash_there_is(tmp_path):
    bars = [BarData(T0 + timedelta(hours=i), 100, 100, 100, 100, 1.0) for i in range(2)]
    orders = [{"decision": 0, "side": "buy", "order_type": "market", "qty": 50, "level": 0}]
    db, sid = _setup(f"sqlite:///{tmp_path / 'c.db'}", bars, orders, 1000, 100, 0)
    run_to_end(db, sid)
    (fill,) = _fills(db)
    assert fill.qty == pytest.approx(1000 / (100 * 1.01))
    with Session(db) as s:
        assert s.get(PaperSession, sid).cash == pytest.approx(0, abs=1e-6)
