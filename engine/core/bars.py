"""Bars, the markets' calendars, and the gap rule every mode shares."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

TIMEFRAMES = {"1h": 3600, "1d": 86400}  # bar length in seconds
ASSET_CLASSES = ("crypto", "stock", "fx")  # a dataset's class: its calendar and fee defaults
# A stock's or a currency pair's series skips weekends (stocks holidays too); crypto trades
# around the clock.
CLOSED_MAX_GAP = timedelta(days=5)
TRADING_DAYS = {"crypto": 365, "stock": 252, "fx": 260}  # a year's trading days per class


class BarData(NamedTuple):
    """One OHLCV bar (a tuple: cheap to make by the hundred thousand, immutable)."""

    ts: Any  # bar open time (UTC)
    open: float
    high: float
    low: float
    close: float
    volume: float


def max_gap(asset_class: str, timeframe: str) -> timedelta:
    """Longest normal distance between two consecutive bars of a dataset of `asset_class`."""
    step = timedelta(seconds=TIMEFRAMES[timeframe])
    return step * 1.5 if asset_class == "crypto" else CLOSED_MAX_GAP


def is_gap(asset_class: str, timeframe: str, previous: datetime | None,
           current: datetime) -> bool:
    return previous is not None and current - previous > max_gap(asset_class, timeframe)


def bars_per_year(asset_class: str, timeframe: str) -> float:
    """Bars a year, for annualizing Sharpe: crypto trades every day, stocks ~252 days, currency
    pairs ~260."""
    days = TRADING_DAYS[asset_class]
    return days * 86400 / TIMEFRAMES[timeframe] if timeframe == "1h" else float(days)


Frame = tuple[datetime, list[tuple[str, BarData]]]  # a bar time and every symbol's bar at it


def frames(series: dict[str, tuple[list[datetime], list[BarData]]], after: datetime | None,
           until: datetime | None, start: datetime | None = None) -> Iterable[Frame]:
    """Merge several symbols' bars into bar times in order: those after `after` (and at or
    after `start`) up to `until` (inclusive; None = no end)."""
    pointers, lists = {}, {}
    for symbol, (times, bars) in series.items():
        i = bisect_right(times, after) if after is not None else 0
        if start is not None:
            i = max(i, bisect_left(times, start))
        pointers[symbol], lists[symbol] = i, (times, bars)
    if len(series) == 1:
        (symbol, (times, bars)), = lists.items()
        for i in range(pointers[symbol], len(times)):
            ts = times[i]
            if until is not None and ts > until:
                return
            yield ts, [(symbol, bars[i])]
        return
    while True:
        heads = [lists[s][0][i] for s, i in pointers.items() if i < len(lists[s][0])]
        if not heads:
            return
        ts = min(heads)
        if until is not None and ts > until:
            return
        frame = []
        for symbol, i in pointers.items():
            times, bars = lists[symbol]
            if i < len(times) and times[i] == ts:
                frame.append((symbol, bars[i]))
                pointers[symbol] = i + 1
        yield ts, frame
