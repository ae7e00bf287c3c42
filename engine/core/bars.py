"""Bars, the markets' calendars, and the gap rule every mode shares."""

from datetime import datetime, timedelta
from typing import Any, NamedTuple

TIMEFRAMES = {"1h": 3600, "1d": 86400}  # bar length in seconds
STOCK_SYMBOLS = frozenset({"AAPL", "MSFT", "IBM", "GOOG"})
# A stock's daily series skips weekends and holidays; crypto trades around the clock.
STOCK_MAX_GAP = timedelta(days=5)


class BarData(NamedTuple):
    """One OHLCV bar (a tuple: cheap to make by the hundred thousand, immutable)."""

    ts: Any  # bar open time (UTC)
    open: float
    high: float
    low: float
    close: float
    volume: float


def max_gap(symbol: str, timeframe: str) -> timedelta:
    """Longest normal distance between two consecutive bars."""
    step = timedelta(seconds=TIMEFRAMES[timeframe])
    return STOCK_MAX_GAP if symbol in STOCK_SYMBOLS else step * 1.5


def is_gap(symbol: str, timeframe: str, previous: datetime | None, current: datetime) -> bool:
    return previous is not None and current - previous > max_gap(symbol, timeframe)


def bars_per_year(symbol: str, timeframe: str) -> float:
    """Bars a year, for annualizing Sharpe: crypto trades every day, stocks ~252 days."""
    days = 252 if symbol in STOCK_SYMBOLS else 365
    return days * 86400 / TIMEFRAMES[timeframe] if timeframe == "1h" else float(days)
