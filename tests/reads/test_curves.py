"""Whole histories downsampled for charts: every extreme, the first and the last point survive."""

import numpy as np
import pandas as pd
import pytest

from engine.reads import curves, queries
from tests.conftest import replay_session, store_bars

LONG = {"name": "long", "symbols": "BTC-USD", "timeframe": "1h", "from": "2018-01-01",
        "to": "2019-06-01", "params": {"fast": 5, "slow": 20}}


@pytest.fixture
def long_session(db) -> int:
    store_bars(db, ("BTC-USD", "1h"))
    return replay_session(db, LONG, status="completed")


def test_the_equity_history_starts_at_the_window_and_keeps_the_deepest_drawdown(db, long_session):
    doc = queries.session_document(db, long_session)
    whole = queries.equity_curve(db, long_session, limit=None)
    drawn = curves.equity_history(db, long_session)
    assert len(whole) > 12_000
    assert len(drawn) <= curves.POINTS + 10
    assert drawn["ts"].iloc[0] == doc.window_from
    assert drawn["ts"].iloc[-1] == whole["ts"].iloc[-1]
    assert -drawn["drawdown_pct"].min() == pytest.approx(doc.metrics["max_drawdown_pct"])
    assert drawn["equity"].max() == whole["equity"].max()
    assert drawn["equity"].min() == whole["equity"].min()
    assert drawn["ts"].is_monotonic_increasing


def test_a_comparison_draws_each_whole_history(db, long_session):
    other = replay_session(db, {**LONG, "name": "other", "params": {"fast": 8, "slow": 30}},
                           status="completed")
    lines, metrics = curves.comparison_history(db, [long_session, other])
    assert len(metrics) == 2
    assert len(lines) <= curves.POINTS + 20
    for _, rows in lines.groupby("session"):
        assert rows["bar"].iloc[0] == 1
        assert pd.Timestamp(rows["ts"].iloc[0]) == pd.Timestamp("2018-01-01", tz="UTC")


def test_candles_merge_into_buckets_that_keep_each_high_and_low():
    rng = np.random.default_rng(7)
    close = 100 + rng.standard_normal(5_001).cumsum()
    bars = pd.DataFrame({"ts": pd.date_range("2020-01-01", periods=len(close), freq="h",
                                             tz="UTC"),
                         "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": 1.0})
    drawn = curves.ohlc_buckets(bars, points=1_000)
    assert len(drawn) <= 1_000
    assert drawn["high"].max() == bars["high"].max()
    assert drawn["low"].min() == bars["low"].min()
    assert drawn["volume"].sum() == bars["volume"].sum()
    assert drawn["ts"].iloc[0] == bars["ts"].iloc[0]
    assert drawn["close"].iloc[-1] == bars["close"].iloc[-1]
    assert drawn["last"].iloc[-1] == len(bars) - 1
    assert len(curves.ohlc_buckets(bars.head(10), points=1_000)) == 10
