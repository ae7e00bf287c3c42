"""Whole histories cut to what a chart can show: equity curves and candles downsampled on the
server so every extreme survives (min/max per bucket; OHLC per bucket for candles)."""

import math

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from engine.reads import queries

POINTS = 2_000  # about one point per pixel column of a wide chart, twice over


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
    rows = np.unique(np.concatenate(kept))
    return frame.iloc[rows].reset_index(drop=True)


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


def equity_history(db: Engine, session_id, points: int = POINTS) -> pd.DataFrame:
    """The whole equity curve (ts, cash, equity, drawdown_pct), first snapshot to last,
    downsampled keeping each bucket's highest and lowest equity and deepest drawdown."""
    return extremes(queries.equity_curve(db, session_id, limit=None),
                    ["equity", "drawdown_pct"], points)


def comparison_history(db: Engine, session_ids: list[int],
                       points: int = POINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """queries.comparison over the whole histories, each session's curve downsampled to
    about `points` / sessions rows keeping its extremes."""
    curves, metrics = queries.comparison(db, session_ids, limit=None)
    if curves.empty:
        return curves, metrics
    share = max(8, points // curves["session"].nunique())
    parts = [extremes(rows, ["pct_from_start"], share)
             for _, rows in curves.groupby("session", sort=False)]
    return pd.concat(parts, ignore_index=True), metrics


def window_bars(db: Engine, symbol: str, timeframe: str, start=None, end=None) -> pd.DataFrame:
    """Every bar of `symbol` from `start` to `end` (the latest queries.MAX_ROWS of them)."""
    return queries.bars(db, symbol, timeframe, start=start, end=end, limit=queries.MAX_ROWS)
