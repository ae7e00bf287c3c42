"""The historical bars shipped in data/: which symbols and timeframes exist, and loading them."""

from functools import cache
from pathlib import Path

from engine.core.bars import STOCK_SYMBOLS, TIMEFRAMES

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


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
def load(symbol: str, timeframe: str):
    """Load one shipped file as a pandas DataFrame: ts (UTC) and OHLCV, ascending."""
    import pandas as pd  # on use: commands that never read a file start without pandas

    frame = pd.read_csv(DATA_DIR / f"{symbol}_{timeframe}.csv.gz")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def is_stock(symbol: str) -> bool:
    return symbol in STOCK_SYMBOLS


@cache
def span(symbol: str, timeframe: str) -> tuple:
    """First bar time, last bar time and bar count of one shipped dataset."""
    ts = load(symbol, timeframe)["ts"]
    return ts.iloc[0].to_pydatetime(), ts.iloc[-1].to_pydatetime(), len(ts)
