"""Whole histories cut to what a chart can show: equity curves and candles downsampled on the
server so every extreme survives (min/max per bucket; OHLC per bucket for candles)."""

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import Engine, String, func, select, type_coerce
from sqlmodel import Session

from engine.params import session_key
from engine.reads import queries
from engine.reads.curve import display_only
from engine.store.datasets import ImportedDataset
from engine.store.models import EquitySnapshot

POINTS = 2_000  # about one point per pixel column of a wide chart, twice over
CACHED_CURVES = 64  # drawn equity curves kept per process (equity_history)
CACHED_WINDOWS = 16  # windows of bars kept per process (window_bars), 20,000 bars ≈ 1 MiB each


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


def _bucket_size(count: int, per_bucket: int, points: int) -> int:
    """Snapshots per bucket for a curve of `count`: 1 (every one kept) while they fit in
    `points`, else the power of two that keeps at most about `points` rows. A power of two
    so that a longer curve's buckets are whole unions of a shorter one's: downsampling what
    was drawn plus the new snapshots keeps the same rows as downsampling the whole curve."""
    if count <= points:
        return 1
    return 1 << math.ceil(math.log2(count * per_bucket / points))


def extremes(frame: pd.DataFrame, columns: list[str], points: int = POINTS) -> pd.DataFrame:
    """At most about `points` rows of `frame` (ordered by n, the row's position in its
    curve) in order: per bucket of consecutive positions its first and last row and the rows
    holding each column's minimum and maximum, so the first row, the last row and every
    extreme are kept."""
    if frame.empty:
        return frame.reset_index(drop=True)
    n = frame["n"].to_numpy()
    size = _bucket_size(int(n[-1]) + 1, 2 + 2 * len(columns), points)
    if size == 1:
        return frame.reset_index(drop=True)
    frame = frame.reset_index(drop=True)
    bucket = n // size
    edges = np.flatnonzero(np.diff(bucket, prepend=-1, append=bucket[-1] + 1))
    kept = [edges[:-1], edges[1:] - 1]  # each bucket's first and last row
    for column in columns:
        values = pd.Series(frame[column].to_numpy(dtype=float)).groupby(bucket)
        kept += [values.idxmin().to_numpy(), values.idxmax().to_numpy()]
    return frame.iloc[np.unique(np.concatenate(kept))].reset_index(drop=True)


@dataclass(frozen=True)
class _Drawn:
    """A session's curve as drawn, up to its last snapshot so far."""

    first: datetime  # the first snapshot's time: the history the rows belong to
    count: int  # snapshots drawn from
    peak: float  # the highest equity among them
    frame: pd.DataFrame  # the rows kept: ts, equity, drawdown_pct, n


_drawn: OrderedDict[tuple, _Drawn] = OrderedDict()
_drawn_lock = threading.Lock()


def _snapshots(db: Engine, key: int, after: datetime | None) -> tuple[datetime | None,
                                                                      pd.DataFrame]:
    """The session's first snapshot time and its snapshots (ts, equity) after `after` (all
    when None), oldest first: index seeks and a range on (session_id, ts)."""
    snap = EquitySnapshot
    query = select(type_coerce(snap.ts, String), snap.equity).where(snap.session_id == key)
    if after is not None:
        query = query.where(snap.ts > after)
    with db.connect() as c:  # times parsed by pandas at once: 20,000 rows one by one are slow
        first = c.execute(select(func.min(snap.ts)).where(snap.session_id == key)).scalar()
        rows = c.execute(query.order_by(snap.ts)).all()
    times, equity = zip(*rows, strict=True) if rows else ((), ())
    return first, pd.DataFrame({
        "ts": pd.to_datetime(pd.Series(times, dtype=object), utc=True, format="ISO8601"),
        "equity": pd.Series(equity, dtype=float)})


def _extended(db: Engine, key: int, points: int, drawn: _Drawn | None) -> _Drawn:
    """`drawn` with the snapshots written since (or the whole curve read anew, when there is
    none or the session's history is no longer the one drawn)."""
    after = drawn.frame["ts"].iloc[-1].to_pydatetime() if drawn and len(drawn.frame) else None
    first, new = _snapshots(db, key, after)
    if drawn is not None and first != drawn.first:
        return _extended(db, key, points, None)
    if drawn is not None and new.empty:
        return drawn
    count, peak = (drawn.count, drawn.peak) if drawn else (0, -math.inf)
    running = np.maximum.accumulate(np.append(peak, new["equity"].to_numpy()))[1:]
    new["drawdown_pct"] = (new["equity"] / running - 1) * 100
    new["n"] = np.arange(count, count + len(new))
    rows = pd.concat([drawn.frame, new]) if drawn and len(drawn.frame) else new
    return _Drawn(first, count + len(new), float(running[-1]) if len(new) else peak,
                  extremes(rows, ["equity", "drawdown_pct"], points))


def equity_history(db: Engine, session_id, points: int = POINTS) -> pd.DataFrame:
    """The whole equity curve, first snapshot to last, cut to about `points` rows keeping
    each bucket's first, last, highest and lowest equity and deepest drawdown. Columns ts,
    equity, drawdown_pct (from the running peak of the whole curve) and n (the snapshot's
    position in the curve).

    What was drawn is kept per process (CACHED_CURVES curves) and extended by the snapshots
    written since, read by index: a finished session's curve is read once, a running one's
    each time only for its new bars, with the same rows as reading it whole."""
    key = session_key(session_id)
    with Session(db) as s:
        variant = display_only(s, key)
    if variant:  # it stores its curve at display resolution: every bar's is recomputed
        return extremes(queries.equity_curve(db, key, limit=None),
                        ["equity", "drawdown_pct"], points)
    slot = (db.url.render_as_string(), key, points)
    with _drawn_lock:
        drawn = _drawn.get(slot)
    drawn = _extended(db, key, points, drawn)
    with _drawn_lock:
        _drawn[slot] = drawn
        _drawn.move_to_end(slot)
        while len(_drawn) > CACHED_CURVES:
            _drawn.popitem(last=False)
    return drawn.frame.copy()


def comparison_history(db: Engine, session_ids: list[int],
                       points: int = POINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """queries.comparison over the whole histories, each session's curve cut to about
    `points` / sessions rows keeping its extremes."""
    share = max(10, points // max(1, len(session_ids)))
    return queries.comparison(db, session_ids, partial(equity_history, points=share))


@dataclass(frozen=True)
class _Window:
    """A dataset's bars from a start, as read so far, and the file they came from."""

    sha256: str | None  # of the imported file; None: a shipped dataset or live bars
    bars: pd.DataFrame


_windows: OrderedDict[tuple, _Window] = OrderedDict()
_windows_lock = threading.Lock()


def window_bars(db: Engine, symbol: str, timeframe: str, start=None, end=None) -> pd.DataFrame:
    """Every bar of `symbol` from `start` to `end` (the latest queries.MAX_ROWS of them).

    The bars read are kept per process (CACHED_WINDOWS windows) while the dataset's imported
    file stays the same; a later `end` reads only the bars from the last one kept on (re-read: a
    live bar may be rewritten), by the bar table's key."""
    if end is None:
        return queries.bars(db, symbol, timeframe, start=start, end=end, limit=queries.MAX_ROWS)
    with Session(db) as s:
        sha256 = s.execute(select(ImportedDataset.sha256).where(
            ImportedDataset.symbol == symbol, ImportedDataset.timeframe == timeframe)).scalar()
    slot = (db.url.render_as_string(), symbol, timeframe, start)
    with _windows_lock:
        kept = _windows.get(slot)
    if kept is None or kept.sha256 != sha256 or not len(kept.bars):
        kept = _Window(sha256, queries.bars(db, symbol, timeframe, start=start, end=end,
                                            limit=queries.MAX_ROWS))
        if len(kept.bars) == queries.MAX_ROWS:  # cut to the latest: not a window to extend
            return kept.bars
    elif kept.bars["ts"].iloc[-1] < end:
        last = kept.bars["ts"].iloc[-1]
        newer = queries.bars(db, symbol, timeframe, start=last.to_pydatetime(), end=end,
                             limit=queries.MAX_ROWS)
        kept = _Window(sha256, pd.concat([kept.bars[kept.bars["ts"] < last], newer],
                                         ignore_index=True))
        if len(kept.bars) >= queries.MAX_ROWS:
            return kept.bars.tail(queries.MAX_ROWS).reset_index(drop=True)
    with _windows_lock:
        _windows[slot] = kept
        _windows.move_to_end(slot)
        while len(_windows) > CACHED_WINDOWS:
            _windows.popitem(last=False)
    return kept.bars[kept.bars["ts"] <= end].reset_index(drop=True)
