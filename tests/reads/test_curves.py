"""Whole histories downsampled for charts: every extreme, the first and the last point survive."""

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event, insert, update

from engine.control.datasets import import_upload
from engine.market import catalog
from engine.reads import curves, queries
from engine.store.db import session_scope
from engine.store.models import Bar, EquitySnapshot
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


def test_a_growing_curve_is_drawn_from_its_new_snapshots_as_if_read_whole(db, long_session):
    """The drawn curve is kept and extended by the snapshots written since: the same rows as
    downsampling the whole curve, a new low's drawdown and a new high included, reading only
    the new snapshots."""
    before = curves.equity_history(db, long_session)
    last = queries.equity_curve(db, long_session, limit=1).iloc[-1]
    peak = queries.equity_curve(db, long_session, limit=None)["equity"].max()
    low, high = peak * 0.5, peak * 1.25  # a drawdown of 50 % from the old peak, then a top
    hour = pd.Timedelta(hours=1)
    with session_scope(db) as s:
        s.execute(insert(EquitySnapshot), [
            {"session_id": long_session, "ts": (last["ts"] + k * hour).to_pydatetime(),
             "cash": last["cash"], "equity": equity}
            for k, equity in enumerate((low, last["equity"], high, high * 0.9), start=1)])
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db, "before_cursor_execute", seen)
    try:
        after = curves.equity_history(db, long_session)
    finally:
        event.remove(db, "before_cursor_execute", seen)
    whole = curves.extremes(queries.equity_curve(db, long_session, limit=None),
                            ["equity", "drawdown_pct"])
    pd.testing.assert_frame_equal(after, whole[after.columns], check_dtype=False)
    assert after["drawdown_pct"].min() == pytest.approx(-50.0)
    assert after["drawdown_pct"].iloc[-1] == pytest.approx(-10.0)
    assert after["equity"].max() == high
    assert after["n"].iloc[-1] == before["n"].iloc[-1] + 4
    reads = [sql for sql in statements if "FROM equity_snapshot" in sql and "min(" not in sql]
    assert reads
    assert all("equity_snapshot.ts >" in sql for sql in reads)  # only what is new


def test_a_window_of_bars_read_again_with_a_later_end_is_the_window_read_whole(db):
    """window_bars keeps what it read and reads only from its last bar on (that bar again:
    a live bar may be rewritten): the same bars as reading the window whole."""
    store_bars(db, ("BTC-USD", "1h"))
    start = pd.Timestamp("2019-01-01", tz="UTC").to_pydatetime()
    mid, end = (pd.Timestamp(d, tz="UTC").to_pydatetime() for d in ("2019-02-01", "2019-03-01"))
    first = curves.window_bars(db, "BTC-USD", "1h", start=start, end=mid)
    pd.testing.assert_frame_equal(first, queries.bars(db, "BTC-USD", "1h", start=start,
                                                      end=mid, limit=queries.MAX_ROWS))
    with session_scope(db) as s:  # the last bar read is rewritten (a live bar's update)
        s.execute(update(Bar).where(Bar.symbol == "BTC-USD", Bar.timeframe == "1h",
                                    Bar.ts == mid).values(close=Bar.close + 1))
    later = curves.window_bars(db, "BTC-USD", "1h", start=start, end=end)
    whole = queries.bars(db, "BTC-USD", "1h", start=start, end=end, limit=queries.MAX_ROWS)
    pd.testing.assert_frame_equal(later, whole)
    assert later.loc[later["ts"] == mid, "close"].item() == first["close"].iloc[-1] + 1
    pd.testing.assert_frame_equal(curves.window_bars(db, "BTC-USD", "1h", start=start, end=mid),
                                  whole[whole["ts"] <= mid])


def test_a_window_of_an_imported_dataset_is_read_anew_once_another_file_replaces_it(db):
    frame = catalog.load("BTC-USD", "1d").iloc[:300]
    start, end = (frame["ts"].iloc[i].to_pydatetime() for i in (0, -1))
    import_upload(db, frame.to_csv(index=False).encode(), "mine.csv", "MINE", "1d", "crypto",
                  False, "me")
    first = curves.window_bars(db, "MINE", "1d", start=start, end=end)
    doubled = frame.assign(**{c: frame[c] * 2 for c in ("open", "high", "low", "close")})
    import_upload(db, doubled.to_csv(index=False).encode(), "mine.csv", "MINE", "1d", "crypto",
                  True, "me")
    again = curves.window_bars(db, "MINE", "1d", start=start, end=end)
    assert list(again["close"]) == [2 * c for c in first["close"]]
