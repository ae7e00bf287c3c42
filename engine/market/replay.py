"""Replay data: the real bars shipped in data/, stored once for every session's clock."""

from datetime import datetime

from sqlalchemy import Engine, func, select

from engine.core.bars import BarData
from engine.market import catalog
from engine.market.bars import bar_problem, write_bars
from engine.store.db import session_scope
from engine.store.models import Bar


def shipped_bars(symbol: str, timeframe: str) -> list[BarData]:
    """Every usable bar of one shipped file, oldest first."""
    frame = catalog.load(symbol, timeframe)
    bars = [BarData(ts.to_pydatetime(), float(o), float(h), float(lo), float(c), float(v))
            for ts, o, h, lo, c, v in zip(frame["ts"], frame["open"], frame["high"],
                                           frame["low"], frame["close"], frame["volume"],
                                           strict=True)]
    return [b for b in bars if bar_problem(b) is None]


def load_shipped(db: Engine, symbol: str, timeframe: str) -> tuple[int, datetime]:
    """Store a shipped dataset unless it already is; return (bars written, newest bar time)."""
    first, last, count = catalog.span(symbol, timeframe)
    with session_scope(db) as s:
        stored = s.execute(select(func.count()).select_from(Bar).where(
            Bar.symbol == symbol, Bar.timeframe == timeframe, Bar.ts >= first,
            Bar.ts <= last)).scalar_one()
    if stored >= count:
        return 0, last
    return write_bars(db, symbol, timeframe, shipped_bars(symbol, timeframe)), last
