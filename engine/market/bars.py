"""Bar checks and writes shared by every source."""

import math
from datetime import datetime

from sqlalchemy import Engine, func, select

from engine.core.bars import BarData
from engine.store.db import session_scope, upsert_insert
from engine.store.leases import DatasetLease
from engine.store.models import Bar


def bar_problem(bar: BarData) -> str | None:
    """Say what makes a bar unusable (NaN or non-positive price, high < low), else None."""
    prices = (bar.open, bar.high, bar.low, bar.close)
    if any(p is None or (isinstance(p, float) and math.isnan(p)) for p in prices):
        return "a missing (NaN) price"
    if min(prices) <= 0:
        return "a non-positive price"
    if bar.high < bar.low:
        return "high below low"
    if bar.volume is None or (isinstance(bar.volume, float) and math.isnan(bar.volume)):
        return "a missing volume"
    return None


def write_bars(db: Engine, symbol: str, timeframe: str, bars: list[BarData]) -> int:
    """Insert bars, ignoring ones already stored (replays and refetches are idempotent)."""
    if not bars:
        return 0
    rows = [
        {"symbol": symbol, "timeframe": timeframe, "ts": b.ts, "open": b.open, "high": b.high,
         "low": b.low, "close": b.close, "volume": b.volume}
        for b in bars
    ]
    with session_scope(db) as s:
        for start in range(0, len(rows), 2000):
            s.execute(upsert_insert(db, Bar).on_conflict_do_nothing(), rows[start : start + 2000])
    return len(rows)


def latest_bar_time(db: Engine, symbol: str, timeframe: str) -> datetime | None:
    with session_scope(db) as s:
        return s.execute(
            select(func.max(Bar.ts)).where(Bar.symbol == symbol, Bar.timeframe == timeframe)
        ).scalar()


def last_bars(
    db: Engine, symbol: str, timeframe: str, upto: datetime | None, count: int
) -> list[BarData]:
    """The last `count` bars at or before `upto` (the newest when None), oldest first."""
    query = select(Bar.ts, Bar.open, Bar.high, Bar.low, Bar.close, Bar.volume).where(
        Bar.symbol == symbol, Bar.timeframe == timeframe
    )
    if upto is not None:
        query = query.where(Bar.ts <= upto)
    with session_scope(db) as s:
        rows = s.execute(query.order_by(Bar.ts.desc()).limit(count)).all()
    return [BarData(*row) for row in reversed(rows)]


def owned_datasets(db: Engine, worker_id: str) -> list[tuple[str, str]]:
    """The datasets whose bars this worker writes."""
    with session_scope(db) as s:
        return [(symbol, timeframe) for symbol, timeframe in s.execute(
            select(DatasetLease.symbol, DatasetLease.timeframe)
            .where(DatasetLease.worker_id == worker_id)
            .order_by(DatasetLease.symbol, DatasetLease.timeframe))]
