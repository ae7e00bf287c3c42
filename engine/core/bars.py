"""Bars, the markets' calendars, and the gap rule every mode shares."""

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
