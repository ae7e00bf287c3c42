"""A strategy over a whole shipped data file, every fill and metric checked independently."""

import math

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

from engine import catalog, control, queries
from engine.config import load_settings
from engine.db import session_scope
from engine.lockstep import Lockstep
from engine.metrics import max_drawdown_pct
from engine.models import EquitySnapshot, Fill, Order, PaperSession

FEE_BPS, SLIP_BPS, CASH, SIZE = 10.0, 5.0, 10_000.0, 0.5


def expected_orders(frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(bar index, side) the MA-crossover rules give, with the engine's timing: an order decided
    on bar t fills at bar t+1's open, so bar t+1's decision still sees it pending."""
    fast = frame["close"].rolling(10).mean()
    slow = frame["close"].rolling(30).mean()
    diff = fast - slow
    orders, holding, last_decision = [], False, None
    for t in range(1, len(frame)):
        if last_decision is not None and last_decision[0] == t - 2:
            holding = last_decision[1] == "buy"
        if last_decision is not None and last_decision[0] == t - 1:
            continue
        if pd.isna(diff[t - 1]) or pd.isna(diff[t]):
            continue
        up, down = diff[t - 1] <= 0 < diff[t], diff[t - 1] >= 0 > diff[t]
        if (up and not holding) or (down and holding):
            last_decision = (t, "buy" if up else "sell")
            orders.append(last_decision)
    return orders


@pytest.fixture
def replayed(db, env):
    frame = catalog.load("ETH-USD", "1d")
    sid = control.create_session(db, {
        "name": "whole file", "symbols": "ETH-USD", "strategy": "ma_crossover",
        "timeframe": "1d", "cash": CASH, "fee_bps": FEE_BPS, "slippage_bps": SLIP_BPS,
        "position_size": SIZE}).id
    with session_scope(db) as s:
        s.get(PaperSession, sid).status = "running"
    runner = Lockstep(db, load_settings(env), {"market_data": {"warmup_bars": 0}},
                      kinds=("market_data", "strategy", "execution"))
    for _ in range(len(frame) + 1):
        runner.step()
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

    assert [(index[o.decision_bar_ts], o.side) for o in orders] == expected_orders(frame)
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
    for t in range(first, len(frame)):
        fill = fill_at.get(t)
        if fill is not None and fill.side == "buy":
            budget = min(cash * SIZE, cash)
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
    metrics = queries.session_document(db, sid)["metrics"]
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
