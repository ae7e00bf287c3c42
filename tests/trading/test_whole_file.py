"""A strategy over a whole shipped data file, every fill and metric checked independently."""

import math

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from engine.core.stats import max_drawdown_pct
from engine.market import catalog
from engine.reads import queries
from engine.store.models import EquitySnapshot, Fill, Order, PaperSession
from engine.trading.clock import SessionBook, run_to_end
from tests.conftest import replay_session, store_bars

FEE_BPS, SLIP_BPS, CASH, SIZE = 10.0, 5.0, 10_000.0, 0.5


def expected_orders(frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(bar index, side) the MA-crossover rules give: a crossover on bar t's close decides an
    order that fills at bar t+1's open, before bar t+1's own decision."""
    diff = frame["close"].rolling(10).mean() - frame["close"].rolling(30).mean()
    orders, holding = [], False
    for t in range(1, len(frame)):
        if pd.isna(diff[t - 1]) or pd.isna(diff[t]):
            continue
        up, down = diff[t - 1] <= 0 < diff[t], diff[t - 1] >= 0 > diff[t]
        if (up and not holding) or (down and holding):
            orders.append((t, "buy" if up else "sell"))
            holding = up
    return orders


def drive(db, sid: int, bars_per_tick: int | None) -> None:
    """Run the session's clock as the execution agent does, `bars_per_tick` bars a tick
    (None: fast-forward), with a simulated wall clock."""
    if bars_per_tick is None:
        run_to_end(db, sid)
        return
    book, now = SessionBook(db), 0.0
    book.sync(now)
    while sid in book.clocks:
        now += 1.0
        book.tick(now)


@pytest.fixture(params=[1, 7, 1000, None], ids=["1-per-tick", "7-per-tick", "1000-per-tick",
                                               "max"])
def replayed(request, db, env):
    frame = catalog.load("ETH-USD", "1d")
    store_bars(db, ("ETH-USD", "1d"))
    speed = "max" if request.param is None else str(request.param)
    sid = replay_session(db, {
        "name": "whole file", "symbols": "ETH-USD", "strategy": "ma_crossover",
        "timeframe": "1d", "cash": CASH, "fill_model": "custom", "fee_bps": FEE_BPS,
        "slippage_bps": SLIP_BPS, "position_size": SIZE,
        "from": frame["ts"].iloc[0].isoformat(), "speed": speed},
        to_end=False)
    drive(db, sid, request.param)
    return db, sid, frame


def test_every_fill_follows_the_rule_and_every_metric_matches(replayed):
    db, sid, frame = replayed
    index = {ts.to_pydatetime(): i for i, ts in enumerate(frame["ts"])}
    with Session(db) as s:
        orders = s.exec(select(Order).where(Order.session_id == sid).order_by(Order.id)).all()
        fills = {f.order_id: f for f in s.exec(select(Fill).where(Fill.session_id == sid))}
        snaps = s.exec(select(EquitySnapshot).where(EquitySnapshot.session_id == sid)
                       .order_by(EquitySnapshot.ts)).all()
        session = s.get(PaperSession, sid)

    assert session.status == "completed"
    assert session.bars_done == session.bars_total == len(frame)
    assert [(index[o.decision_bar_ts], o.side) for o in orders] == expected_orders(frame)
    assert [o.seq for o in orders] == list(range(1, len(orders) + 1))
    assert len(orders) >= 10

    cash, qty, basis, equity = CASH, 0.0, 0.0, {}
    wins, losses, realized = [], [], []
    fill_at = {}
    for order in orders:
        fill = fills[order.id]
        t = index[order.decision_bar_ts]
        assert index[fill.bar_ts] == t + 1
        open_ = frame["open"][t + 1]
        sign = 1 if order.side == "buy" else -1
        price = open_ * (1 + sign * SLIP_BPS / 1e4)
        assert fill.price == pytest.approx(price, rel=1e-12)
        assert fill.fee == pytest.approx(fill.qty * fill.price * FEE_BPS / 1e4, rel=1e-12)
        assert order.lineage["indicators"]["fast_ma"] == pytest.approx(
            frame["close"][t - 9 : t + 1].mean(), rel=1e-6)
        fill_at[t + 1] = fill
    first = index[snaps[0].ts]
    assert first == 0
    for t in range(first, len(frame)):
        fill = fill_at.get(t)
        if fill is not None and fill.side == "buy":
            budget = min(cash * SIZE, cash)  # flat: equity is cash
            want = budget / frame["close"][t - 1]
            bought = min(want, cash / (fill.price * (1 + FEE_BPS / 1e4)))
            assert fill.qty == pytest.approx(bought, rel=1e-9)
            cash -= bought * fill.price + fill.fee
            qty, basis = bought, (bought * fill.price + fill.fee) / bought
        elif fill is not None:
            assert fill.qty == pytest.approx(qty, rel=1e-12)
            pnl = (fill.price - basis) * qty - fill.fee
            realized.append(pnl)
            (wins if pnl > 0 else losses).append(pnl)
            cash += qty * fill.price - fill.fee
            qty = 0.0
        equity[frame["ts"][t].to_pydatetime()] = cash + qty * frame["close"][t]

    assert {s.ts: s.equity for s in snaps} == pytest.approx(equity, rel=1e-9)
    curve = np.array(list(equity.values()))
    returns = curve[1:] / curve[:-1] - 1
    metrics = queries.session_document(db, sid).metrics
    assert metrics["return_pct"] == pytest.approx((curve[-1] / CASH - 1) * 100, rel=1e-9)
    assert metrics["max_drawdown_pct"] == pytest.approx(max_drawdown_pct(list(curve)), rel=1e-9)
    independent_dd = float(((np.maximum.accumulate(curve) - curve)
                            / np.maximum.accumulate(curve)).max() * 100)
    assert metrics["max_drawdown_pct"] == pytest.approx(independent_dd, rel=1e-9)
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(365)
    assert metrics["sharpe"] == pytest.approx(sharpe, rel=1e-6)
    bh = frame["close"].iloc[-1] / frame["close"][first] - 1
    assert metrics["buy_hold_pct"] == pytest.approx(bh * 100, rel=1e-9)
    assert metrics["realized_pnl"] == pytest.approx(sum(realized), rel=1e-9)
    assert metrics["win_rate_pct"] == pytest.approx(len(wins) / len(realized) * 100)
    assert metrics["profit_factor"] == pytest.approx(sum(wins) / -sum(losses), rel=1e-9)
    assert metrics["trades"] == len(orders) == session.trade_count
    listed = queries.sessions(db).set_index("id").loc[sid]
    assert listed["pnl"] == pytest.approx(equity[max(equity)] - CASH, rel=1e-9)
    assert listed["unrealized_pnl"] == pytest.approx(metrics["unrealized_pnl"], abs=1e-6)
    assert listed["realized_pnl"] + listed["unrealized_pnl"] == pytest.approx(listed["pnl"])


def _history(db, sid: int) -> tuple[list, list]:
    with Session(db) as s:
        fills = [(f.bar_ts, f.side, f.qty, f.price, f.fee) for f in s.exec(
            select(Fill).where(Fill.session_id == sid).order_by(Fill.id))]
        snaps = [(e.ts, e.cash, e.equity) for e in s.exec(
            select(EquitySnapshot).where(EquitySnapshot.session_id == sid)
            .order_by(EquitySnapshot.ts))]
    return fills, snaps


def test_one_seven_a_thousand_bars_per_tick_and_max_agree_exactly(db):
    store_bars(db, ("ETH-USD", "1d"))
    frame = catalog.load("ETH-USD", "1d")
    runs = {}
    for per_tick in (1, 7, 1000, None):
        sid = replay_session(db, {
            "symbols": "ETH-USD", "timeframe": "1d", "strategy": "rsi_reversion",
            "from": frame["ts"].iloc[100].isoformat(), "position_size": 0.8,
            "stop_loss_pct": 5, "speed": str(per_tick or "max")}, to_end=False)
        drive(db, sid, per_tick)
        runs[per_tick] = _history(db, sid)
    reference = runs.pop(None)
    assert len(reference[0]) >= 20
    assert len(reference[1]) == len(frame) - 100
    for per_tick, history in runs.items():
        assert history == reference, f"{per_tick} bars per tick differs from max"
