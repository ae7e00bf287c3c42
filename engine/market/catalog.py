"""Every dataset a session may trade: the historical bars shipped in data/ and the user's
imports (engine.market.imports), looked up the same way — which (symbol, timeframe) pairs
exist, their asset class, span and bars.

A symbol never becomes a file path: the shipped files are listed once and the imports are rows
of the database this process uses (DATABASE_URL); a (symbol, timeframe) is looked up among
them, and anything else is refused with BadInput before any file is touched."""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from engine.config import load_settings
from engine.core.bars import TIMEFRAMES
from engine.core.settings import TradeSettings
from engine.errors import BadInput, shown
from engine.store.plainsql import connect, driver_errors, loaded_time, sqlite_file

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
# The shipped files' asset classes (data/PROVENANCE.md); any other shipped symbol is crypto.
SHIPPED_CLASSES = {"AAPL": "stock", "MSFT": "stock", "IBM": "stock", "GOOG": "stock"}
IMPORTED = ("SELECT symbol, timeframe, asset_class, sha256, rows, first_ts, last_ts "
            "FROM imported_dataset ORDER BY symbol, timeframe")
STORED_BARS = ("SELECT ts, open, high, low, close, volume FROM bar WHERE symbol = ? AND "
               "timeframe = ? ORDER BY ts")


@dataclass(frozen=True)
class DatasetInfo:
    """One imported dataset and its provenance."""

    symbol: str
    timeframe: str
    asset_class: str
    file_name: str
    sha256: str
    rows: int
    first_ts: datetime
    last_ts: datetime
    gaps: int
    imported_by: str
    imported_at: datetime


def dataset_info(row: Mapping[str, Any]) -> DatasetInfo:
    """An imported dataset's record from its imported_dataset columns (times aware UTC)."""
    return DatasetInfo(**{f.name: row[f.name] for f in fields(DatasetInfo)})


class Imported(NamedTuple):
    asset_class: str
    sha256: str
    rows: int
    first: object  # datetime, aware UTC
    last: object


@cache
def _files() -> dict[tuple[str, str], Path]:
    """Each shipped (symbol, timeframe) and its file, as listed in data/."""
    found = {}
    for path in sorted(DATA_DIR.glob("*_*.csv.gz")):
        symbol, _, timeframe = path.name.removesuffix(".csv.gz").rpartition("_")
        if timeframe in TIMEFRAMES:
            found[(symbol, timeframe)] = path
    return found


def _database() -> str | None:
    """This process's database URL, when there is a database to read (a read creates none)."""
    url = load_settings().database_url
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        return url if path is not None and path.is_file() else None
    return url


def imported() -> dict[tuple[str, str], Imported]:
    """The imported datasets, read from the database on every call (an import or a removal
    shows at once in every process)."""
    url = _database()
    if url is None:
        return {}
    try:
        with connect(url) as sql, sql.unit():
            rows = sql.rows(IMPORTED)
    except driver_errors():  # not migrated yet (no table), or unreachable: no imports to offer
        return {}
    return {(s, tf): Imported(cls, sha, n, loaded_time(lo), loaded_time(hi))
            for s, tf, cls, sha, n, lo, hi in rows}


def shipped_datasets() -> list[tuple[str, str]]:
    """The (symbol, timeframe) pairs that have a file in data/."""
    return list(_files())


def datasets() -> list[tuple[str, str]]:
    """Every (symbol, timeframe) a session may trade: shipped, then imported."""
    return [*_files(), *(key for key in imported() if key not in _files())]


def symbols(timeframe: str) -> list[str]:
    return [s for s, tf in datasets() if tf == timeframe]


def _checked(symbol: str, timeframe: str) -> Imported | None:
    """The import behind (symbol, timeframe), None for a shipped one; BadInput otherwise."""
    if not isinstance(timeframe, str) or timeframe not in TIMEFRAMES:
        raise BadInput(f"timeframe must be one of {', '.join(TIMEFRAMES)} (got "
                       f"{shown(timeframe)})")
    if isinstance(symbol, str) and (symbol, timeframe) in _files():
        return None
    found = imported().get((symbol, timeframe)) if isinstance(symbol, str) else None
    if found is None:
        raise BadInput(f"symbols: no {timeframe} data for {shown(symbol)}; available: "
                       f"{', '.join(symbols(timeframe))}")
    return found


def shipped_file(symbol: str, timeframe: str) -> Path:
    """The file of a shipped dataset, found among the listed files (BadInput otherwise)."""
    if _checked(symbol, timeframe) is not None:
        raise BadInput(f"symbols: {shown(symbol)} {timeframe} is imported, not shipped")
    return _files()[(symbol, timeframe)]


def asset_class(symbol: str, timeframe: str) -> str:
    """crypto, stock or fx: what the dataset's calendar and fee defaults follow (a symbol with
    no dataset, e.g. one a live feed adds, counts as crypto)."""
    if (symbol, timeframe) in _files():
        return SHIPPED_CLASSES.get(symbol, "crypto")
    found = imported().get((symbol, timeframe))
    return found.asset_class if found else "crypto"


def asset_classes(symbols: tuple[str, ...] | list[str], timeframe: str) -> tuple[str, ...]:
    return tuple(asset_class(s, timeframe) for s in symbols)


def trade_settings(row) -> TradeSettings:
    """A session row's TradeSettings, with its symbols' asset classes."""
    symbols = row.symbols.split(",") if isinstance(row.symbols, str) else row.symbols
    return TradeSettings.of(row, asset_classes(symbols, row.timeframe))


def load(symbol: str, timeframe: str):
    """One dataset as a pandas DataFrame: ts (UTC) and OHLCV, ascending."""
    found = _checked(symbol, timeframe)
    if found is None:
        return _shipped_frame(symbol, timeframe)
    return _stored_frame(_database(), symbol, timeframe, found.sha256)


@cache
def _shipped_frame(symbol: str, timeframe: str):
    import pandas as pd  # on use: commands that never read a file start without pandas

    frame = pd.read_csv(_files()[(symbol, timeframe)])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


@cache
def _stored_frame(url: str, symbol: str, timeframe: str, _sha256: str):
    """An imported dataset's bars, read once per version of it (its sha256)."""
    import pandas as pd

    with connect(url) as sql, sql.unit():
        rows = sql.rows(STORED_BARS, symbol, timeframe)
    frame = pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return frame


def span(symbol: str, timeframe: str) -> tuple:
    """First bar time, last bar time and bar count of one dataset."""
    found = _checked(symbol, timeframe)
    return _shipped_span(symbol, timeframe) if found is None else (found.first, found.last,
                                                                    found.rows)


@cache
def _shipped_span(symbol: str, timeframe: str) -> tuple:
    ts = _shipped_frame(symbol, timeframe)["ts"]
    return ts.iloc[0].to_pydatetime(), ts.iloc[-1].to_pydatetime(), len(ts)
