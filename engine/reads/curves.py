"""Whole histories cut to what a chart can show: equity curves and candles downsampled on the
server so every extreme survives (min/max per bucket; OHLC per bucket for candles)."""

import math
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import Engine, String, select, type_coerce
from sqlmodel import Session

from engine.params import session_key
from engine.reads import queries
from engine.reads.curve import display_only
from engine.store.models import EquitySnapshot

POINTS = 2_000  # about one point per pixel column of a wide chart, twice over


def ohlc_buckets(bars: pd.DataFrame, points: int = POINTS) -> pd.DataFrame:
    """Bars merged into at most `points` candles of equal runs of consecutive bars: first
    open and time, highest high, lowest low, last close, summed volume; `last` is the
    position (in `bars`) of each candle's last bar. Fewer bars than `points` stay as they
    are."""
    size = max(1, math.ceil(len(bars) / points))
    bucket = np.arange(len(bars)) // size
    merged = bars.reset_index(drop=True).assign(last=np.arange(len(bars))).groupby(bucket).agg(
        ts=("ts", "first"), open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"), last=("last", "last"))
    return merged.reset_index(drop=True)


def extremes(frame: pd.DataFrame, columns: list[str], points: int = POINTS) -> pd.DataFrame:
    """At most about `points` rows of `frame` in order: per bucket of consecutive rows its
    first and last row and the rows holding each column's minimum and maximum, so the first
    row, the last row and every extreme are kept."""
    per_bucket = 2 + 2 * len(columns)
    size = math.ceil(len(frame) * per_bucket / points)
    if size <= per_bucket:
        return frame.reset_index(drop=True)
    bucket = np.arange(len(frame)) // size
    edges = np.flatnonzero(np.diff(bucket, prepend=-1, append=bucket[-1] + 1))
    kept = [edges[:-1], edges[1:] - 1]  # each bucket's first and last row
    for column in columns:
        values = pd.Series(frame[column].to_numpy(dtype=float)).groupby(bucket)
        kept += [values.idxmin().to_numpy(), values.idxmax().to_numpy()]
    return frame.iloc[np.unique(np.concatenate(kept))].reset_index(drop=True)


def equity_history(db: Engine, session_id, points: int = POINTS) -> pd.DataFrame:
    """The whole equity curve, first snapshot to last, cut to about `points` rows keeping
    each bucket's first, last, highest and lowest equity and deepest drawdown. Columns ts,
    equity, drawdown_pct (from the running peak of the whole curve) and n (the snapshot's
    position in the curve)."""
    key, snap = session_key(session_id), EquitySnapshot
    with Session(db) as s:
        variant = display_only(s, key)
    if variant:  # it stores its curve at display resolution: every bar's is recomputed
        return extremes(queries.equity_curve(db, key, limit=None),
                        ["equity", "drawdown_pct"], points)
    with db.connect() as c:  # times parsed by pandas at once: 20,000 rows one by one are slow
        rows = c.execute(select(type_coerce(snap.ts, String), snap.equity)
                         .where(snap.session_id == key).order_by(snap.ts)).all()
    times, equity = zip(*rows, strict=True) if rows else ((), ())
    frame = pd.DataFrame({"ts": pd.to_datetime(pd.Series(times, dtype=object), utc=True,
                                                format="ISO8601"),
                          "equity": pd.Series(equity, dtype=float)})
    frame["drawdown_pct"] = (frame["equity"] / frame["equity"].cummax() - 1) * 100
    frame["n"] = range(len(frame))
    return extremes(frame, ["equity", "drawdown_pct"], points)


def comparison_history(db: Engine, session_ids: list[int],
                       points: int = POINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """queries.comparison over the whole histories, each session's curve cut to about
    `points` / sessions rows keeping its extremes."""
    share = max(10, points // max(1, len(session_ids)))
    return queries.comparison(db, session_ids, partial(equity_history, points=share))


def window_bars(db: Engine, symbol: str, timeframe: str, start=None, end=None) -> pd.DataFrame:
    """Every bar of `symbol` from `start` to `end` (the latest queries.MAX_ROWS of them)."""
    return queries.bars(db, symbol, timeframe, start=start, end=end, limit=queries.MAX_ROWS)
