"""The historical bars shipped in data/: which symbols and timeframes exist, and loading them.

A symbol never becomes a file path: the files are listed once, and a (symbol, timeframe) is
looked up among them; anything else is refused with BadInput before any file is touched."""

from functools import cache
from pathlib import Path

from engine.core.bars import STOCK_SYMBOLS, TIMEFRAMES
from engine.errors import BadInput, shown

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@cache
def _files() -> dict[tuple[str, str], Path]:
    """Each shipped (symbol, timeframe) and its file, as listed in data/."""
    found = {}
    for path in sorted(DATA_DIR.glob("*_*.csv.gz")):
        symbol, _, timeframe = path.name.removesuffix(".csv.gz").rpartition("_")
        if timeframe in TIMEFRAMES:
            found[(symbol, timeframe)] = path
    return found


def datasets() -> list[tuple[str, str]]:
    """Return the (symbol, timeframe) pairs that have a file in data/."""
    return list(_files())


def symbols(timeframe: str) -> list[str]:
    return [s for s, tf in datasets() if tf == timeframe]


def shipped_file(symbol: str, timeframe: str) -> Path:
    """The file of a shipped dataset, found among the listed files (BadInput otherwise)."""
    if not isinstance(timeframe, str) or timeframe not in TIMEFRAMES:
        raise BadInput(f"timeframe must be one of {', '.join(TIMEFRAMES)} (got "
                       f"{shown(timeframe)})")
    path = _files().get((symbol, timeframe)) if isinstance(symbol, str) else None
    if path is None:
        raise BadInput(f"symbols: no shipped {timeframe} data for {shown(symbol)}; available: "
                       f"{', '.join(symbols(timeframe))}")
    return path


@cache
def load(symbol: str, timeframe: str):
    """Load one shipped file as a pandas DataFrame: ts (UTC) and OHLCV, ascending."""
    import pandas as pd  # on use: commands that never read a file start without pandas

    frame = pd.read_csv(shipped_file(symbol, timeframe))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def is_stock(symbol: str) -> bool:
    return symbol in STOCK_SYMBOLS


@cache
def span(symbol: str, timeframe: str) -> tuple:
    """First bar time, last bar time and bar count of one shipped dataset."""
    ts = load(symbol, timeframe)["ts"]
    return ts.iloc[0].to_pydatetime(), ts.iloc[-1].to_pydatetime(), len(ts)
