"""The historical bars shipped in data/: which symbols and timeframes exist, and loading them."""

from functools import cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TIMEFRAMES = {"1h": 3600, "1d": 86400}
# Bars a year, for annualizing Sharpe: crypto trades every day, stocks ~252 days.
STOCK_SYMBOLS = frozenset({"AAPL", "MSFT", "IBM", "GOOG"})


def datasets() -> list[tuple[str, str]]:
    """Return the (symbol, timeframe) pairs that have a file in data/."""
    found = []
    for path in sorted(DATA_DIR.glob("*_*.csv.gz")):
        symbol, _, timeframe = path.name.removesuffix(".csv.gz").rpartition("_")
        if timeframe in TIMEFRAMES:
            found.append((symbol, timeframe))
    return found


def symbols(timeframe: str) -> list[str]:
    return [s for s, tf in datasets() if tf == timeframe]


@cache
def load(symbol: str, timeframe: str) -> pd.DataFrame:
    """Load one shipped file: ts (UTC) and OHLCV, ascending."""
    frame = pd.read_csv(DATA_DIR / f"{symbol}_{timeframe}.csv.gz")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def bars_per_year(symbol: str, timeframe: str) -> float:
    days = 252 if symbol in STOCK_SYMBOLS else 365
    return days * 86400 / TIMEFRAMES[timeframe] if timeframe == "1h" else float(days)
