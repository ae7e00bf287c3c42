"""The pure trading core: strategies against independent pandas computations, and the risk
rules (stop-loss, take-profit) through Trader.step on hand-made bars."""

import math
from collections import deque
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.core.bars import BarData
from engine.core.settings import TradeSettings
from engine.core.strategies import Blend, RSIReversion
from engine.core.strategy_api import BarContext, History, Sentiment
from engine.core.trader import Outbox, Trader, WorkingOrder
from engine.market import catalog

T0 = datetime(2020, 1, 1, tzinfo=UTC)
QUIET = {"fast": 199, "slow": 500}  # no crossover within these short series


def wilder_rsi(close: pd.Series, period: int) -> pd.Series:
    change = close.diff()
    gain, loss = change.clip(lower=0), (-change).clip(lower=0)
    avg_gain, avg_loss = gain.copy() * np.nan, loss.copy() * np.nan
    avg_gain.iloc[period] = gain.iloc[1:period + 1].mean()
    avg_loss.iloc[period] = loss.iloc[1:period + 1].mean()
    for i in range(period + 1, len(close)):
        avg_gain.iloc[i] = (avg_gain.iloc[i - 1] * (period - 1) + gain.iloc[i]) / period
        avg_loss.iloc[i] = (avg_loss.iloc[i - 1] * (period - 1) + loss.iloc[i]) / period
    return 100 - 100 / (1 + avg_gain / avg_loss)


def _bars(frame: pd.DataFrame) -> list[BarData]:
    return [BarData(r.ts.to_pydatetime(), r.open, r.high, r.low, r.close, r.volume)
            for r in frame.itertuples()]


def _ctx(bar: BarData, score: float | None = None) -> BarContext:
    mood = None if score is None else Sentiment(score, "news")
    return BarContext("X", bar, History(deque([bar])), mood, 0.0, 0.0)


def test_rsi_reversion_signals_follow_wilders_rsi():
    frame = catalog.load("ETH-USD", "1d").iloc[:400].reset_index(drop=True)
    params = RSIReversion.validate({"period": "9", "oversold": "35", "overbought": "65"})
    strategy, rsi = RSIReversion(params), wilder_rsi(frame["close"], 9)
    seen = {"buy": 0, "sell": 0}
    for i, bar in enumerate(_bars(frame)):
        signal = strategy.on_bar(_ctx(bar))
        if pd.isna(rsi[i]):
            assert signal is None
            continue
        assert strategy.indicators["rsi"] == pytest.approx(rsi[i], abs=1e-3)
        want = "buy" if rsi[i] < 35 else "sell" if rsi[i] > 65 else None
        assert (signal.side if signal else None) == want
        if want:
            seen[want] += 1
    assert seen["buy"] > 5
    assert seen["sell"] > 5


def test_blend_scores_trend_sentiment_and_volume_as_documented():
    frame = catalog.load("AAPL", "1d").iloc[:300].reset_index(drop=True)
    params = Blend.validate({"fast": "5", "slow": "20", "volume_window": "10"})
    strategy = Blend(params)
    fast, slow = frame["close"].rolling(5).mean(), frame["close"].rolling(20).mean()
    volume = frame["volume"].rolling(10).mean()
    sentiment = 0.4
    signals = 0
    for i, bar in enumerate(_bars(frame)):
        signal = strategy.on_bar(_ctx(bar, sentiment))
        if i < 19:
            assert signal is None
            continue
        trend = math.tanh(20 * (fast[i] / slow[i] - 1))
        direction = 1.0 if frame["close"][i] >= frame["close"][i - 1] else -1.0
        vol = direction * math.tanh(frame["volume"][i] / volume[i] - 1)
        blended = (0.5 * trend + 0.3 * sentiment + 0.2 * vol) / 1.0
        assert strategy.indicators["blend"] == pytest.approx(blended, abs=1e-4)
        want = "buy" if blended > 0.25 else "sell" if blended < -0.1 else None
        assert (signal.side if signal else None) == want
        signals += want is not None
    assert signals > 10


def _trader(**risk) -> Trader:
    settings = TradeSettings("ma_crossover", QUIET, ("BTC-USD",), "1h", 1000.0, fee_bps=0,
                             slippage_bps=0, position_size=1.0, **risk)
    entry = WorkingOrder(seq=1, symbol="BTC-USD", side="buy", qty=5.0, decision_ts=T0)
    return Trader(settings, working=[entry], next_seq=2)


def _run(trader: Trader, closes: list[float]) -> Outbox:
    out = Outbox()
    for i, close in enumerate(closes, start=1):
        bar = BarData(T0 + timedelta(hours=i), close, close * 1.001, close * 0.999, close, 1.0)
        trader.step(bar.ts, [("BTC-USD", bar)], out)
    return out


@pytest.mark.parametrize(("risk", "closes", "rule", "exit_bar"), [
    ({"stop_loss_pct": 5}, [100, 99, 96, 94.9, 93, 90], "stop-loss 5% below entry", 5),
    ({"take_profit_pct": 10}, [100, 104, 109, 110.5, 112, 115], "take-profit 10% above entry",
     5),
])
def test_stop_loss_and_take_profit_exit_on_the_next_open(risk, closes, rule, exit_bar):
    out = _run(_trader(**risk), closes)
    assert [(f.seq, f.side, f.qty, f.price) for f in out.fills] == [
        (1, "buy", 5.0, 100.0), (2, "sell", 5.0, closes[exit_bar - 1])]
    (order,) = out.orders
    assert (order.reason, order.decision_ts) == (rule, T0 + timedelta(hours=exit_bar - 1))
    assert out.fills[1].realized_pnl == pytest.approx(5 * (closes[exit_bar - 1] - 100))


def test_equity_is_marked_after_the_bars_fills_at_its_close():
    out = _run(_trader(), [100, 102, 101])
    assert out.snapshots == [(T0 + timedelta(hours=1), 500.0, 1000.0),
                             (T0 + timedelta(hours=2), 500.0, 500 + 5 * 102.0),
                             (T0 + timedelta(hours=3), 500.0, 500 + 5 * 101.0)]
