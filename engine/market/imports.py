"""The user's own datasets: `data import` / the dashboard's upload store a checked file's bars
in the bar table (all or nothing, one transaction) with its provenance in imported_dataset;
`data list` and `data remove` read and drop them.

A symbol is text, checked against SYMBOL_PATTERN, and never becomes a file path; a file's name
is kept as provenance only."""

import hashlib
import re
from dataclasses import dataclass
from itertools import repeat

from sqlalchemy import Engine, delete, func, select

from engine.core.bars import ASSET_CLASSES, TIMEFRAMES
from engine.core.lifecycle import SessionStatus
from engine.errors import BadInput, NotAllowed, NotFound, shown
from engine.market import catalog
from engine.market.dataset_file import Gap, read_bar_file
from engine.store.datasets import ImportedDataset
from engine.store.db import insert_raw, session_scope
from engine.store.events import record_event
from engine.store.models import Bar, PaperSession

SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
IN_USE = (SessionStatus.CREATED, SessionStatus.RUNNING, SessionStatus.PAUSED)
BAR_COLUMNS = ("symbol", "timeframe", "ts", "open", "high", "low", "close", "volume")
WRITE_CHUNK = 100_000  # rows handed to the driver at a time (bounds the Python tuples alive)


@dataclass(frozen=True)
class ImportResult:
    dataset: catalog.DatasetInfo
    unchanged: bool  # the same file was imported before: nothing written
    replaced: bool
    naive_times: bool
    descending: bool
    kind: str
    gaps: list[Gap]


def _checked(symbol: str, timeframe: str, asset_class: str) -> None:
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        raise BadInput(f"symbol must be 1-32 letters, digits, '.', '_' or '-' starting with a "
                       f"letter or digit (got {shown(symbol)})")
    if timeframe not in TIMEFRAMES:
        raise BadInput(f"timeframe must be one of {', '.join(TIMEFRAMES)} (got "
                       f"{shown(timeframe)})")
    if asset_class not in ASSET_CLASSES:
        raise BadInput(f"asset class must be one of {', '.join(ASSET_CLASSES)} (got "
                       f"{shown(asset_class)})")
    shipped = {s.lower() for s, tf in catalog.shipped_datasets() if tf == timeframe}
    if symbol.lower() in shipped:
        raise BadInput(f"symbol: {symbol} {timeframe} is shipped data; import under another "
                       "symbol")


def _refuse_in_use(s, symbol: str, timeframe: str, doing: str) -> None:
    users = s.execute(select(PaperSession.id, PaperSession.status, PaperSession.symbols).where(
        PaperSession.timeframe == timeframe, PaperSession.status.in_(IN_USE))).all()
    for sid, status, symbols in users:
        if symbol in symbols.split(","):
            raise NotAllowed(f"session {sid} ({status}) trades {symbol} {timeframe}; stop it "
                             f"before you {doing} its data")


def _bar_chunks(db: Engine, symbol: str, timeframe: str, frame):
    """The bar table's rows of `frame`, WRITE_CHUNK at a time, times in the form the database
    stores them (SQLite: SQLAlchemy's naive-UTC text, made by numpy)."""
    import numpy as np

    for start in range(0, len(frame), WRITE_CHUNK):
        part = frame.iloc[start:start + WRITE_CHUNK]
        if db.dialect.name == "sqlite":
            text = np.datetime_as_string(part["ts"].dt.tz_convert(None).to_numpy(), unit="us")
            times = np.char.replace(text, "T", " ").tolist()
        else:
            times = part["ts"].dt.to_pydatetime().tolist()
        columns = [part[c].to_numpy().tolist() for c in ("open", "high", "low", "close",
                                                          "volume")]
        yield list(zip(repeat(symbol), repeat(timeframe), times, *columns))


def import_dataset(db: Engine, data: bytes, file_name: str, symbol: str, timeframe: str,
                   asset_class: str = "crypto", replace: bool = False,
                   who: str = "") -> ImportResult:
    """Check `data` (a file's bytes) and store its bars as (symbol, timeframe), or refuse with
    one line and store nothing."""
    _checked(symbol, timeframe, asset_class)
    sha = hashlib.sha256(data).hexdigest()
    with session_scope(db) as s:
        old = s.get(ImportedDataset, (symbol, timeframe))
        if old is not None and old.sha256 == sha and old.asset_class == asset_class:
            return ImportResult(catalog.dataset_info(old.model_dump()), True, False, False,
                                False, "", [])
        stored = s.execute(select(func.count()).select_from(Bar).where(
            Bar.symbol == symbol, Bar.timeframe == timeframe)).scalar_one()
    if old is None and stored:
        raise NotAllowed(f"symbol: {symbol} {timeframe} already has {stored} bars from a live "
                         "feed; import under another symbol")
    if old is not None and not replace:
        if old.sha256 == sha:
            raise NotAllowed(f"{symbol} {timeframe} was imported from this file as "
                             f"{old.asset_class}; --replace imports it again as {asset_class}")
        raise NotAllowed(f"{symbol} {timeframe} was imported from {old.file_name} (sha256 "
                         f"{old.sha256[:12]}); a different file replaces it only with --replace")
    bars = read_bar_file(data, timeframe, asset_class)
    frame = bars.frame
    row = ImportedDataset(
        symbol=symbol, timeframe=timeframe, asset_class=asset_class,
        file_name=file_name[:255], sha256=sha, rows=len(frame),
        first_ts=frame["ts"].iloc[0].to_pydatetime(), last_ts=frame["ts"].iloc[-1].to_pydatetime(),
        gaps=len(bars.gaps), imported_by=(who or "unknown")[:64])
    with session_scope(db) as s:
        now = s.get(ImportedDataset, (symbol, timeframe))
        if (now.sha256 if now else None) != (old.sha256 if old else None):
            raise NotAllowed(f"{symbol} {timeframe} was imported by someone else meanwhile; "
                             "look at data list and try again")
        if old is not None:
            _refuse_in_use(s, symbol, timeframe, "replace")
            s.execute(delete(Bar).where(Bar.symbol == symbol, Bar.timeframe == timeframe))
            s.execute(delete(ImportedDataset).where(ImportedDataset.symbol == symbol,
                                                    ImportedDataset.timeframe == timeframe))
        for rows in _bar_chunks(db, symbol, timeframe, frame):
            insert_raw(s, "bar", BAR_COLUMNS, rows)
        s.add(row)
        record_event(s, "data", "imported", f"{symbol} {timeframe} ({asset_class}): "
                     f"{row.rows} bars from {row.file_name} (sha256 {sha[:12]}) by "
                     f"{row.imported_by}" + (", replacing the previous file" if old else ""))
    return ImportResult(catalog.dataset_info(row.model_dump()), False, old is not None,
                        bars.naive_times, bars.descending, bars.kind, bars.gaps)


def remove_dataset(db: Engine, symbol: str, timeframe: str) -> int:
    """Drop an imported dataset and its bars (refused while a session uses it); bars removed."""
    with session_scope(db) as s:
        if s.get(ImportedDataset, (symbol, timeframe)) is None:
            raise NotFound(f"no imported dataset {shown(symbol)} {shown(timeframe)} (see data "
                           "list)")
        _refuse_in_use(s, symbol, timeframe, "remove")
        removed = s.execute(delete(Bar).where(Bar.symbol == symbol,
                                              Bar.timeframe == timeframe)).rowcount
        s.execute(delete(ImportedDataset).where(ImportedDataset.symbol == symbol,
                                                ImportedDataset.timeframe == timeframe))
        record_event(s, "data", "removed", f"{symbol} {timeframe}: {removed} bars removed")
    return removed
