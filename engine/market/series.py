"""Stored bars in memory: one sorted list per dataset, shared by every session that trades it.

Bars are read with plain SQL (no ORM rows, no per-value type processing) because a session's
whole window is read at once; each bar time's stored form is kept so that equity snapshots
can be written back with the same value and no conversion.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from engine.core.bars import BarData
from engine.gc_pause import no_cycle_collection
from engine.store.db import fetch_raw

Key = tuple[str, str]  # (symbol, timeframe)
Series = tuple[list[datetime], list[BarData]]  # bar times and bars, ascending
READ_CHUNK = 50_000
BARS_AFTER = ("SELECT ts, open, high, low, close, volume FROM bar WHERE symbol = ? AND "
              "timeframe = ? AND ts > ? ORDER BY ts LIMIT ?")
BARS_FROM_START = ("SELECT ts, open, high, low, close, volume FROM bar WHERE symbol = ? AND "
                   "timeframe = ? ORDER BY ts LIMIT ?")
VERSIONS = "SELECT symbol, timeframe, sha256 FROM imported_dataset"


def _as_time(stored: Any) -> datetime:
    """A bar time as the database returns it (SQLite: naive UTC text) as aware UTC."""
    if isinstance(stored, str):
        return datetime.fromisoformat(stored + "+00:00")
    return stored.astimezone(UTC) if stored.tzinfo else stored.replace(tzinfo=UTC)


class BarCache:
    """Datasets read from the bar table once, then topped up with newer bars on `refresh`."""

    def __init__(self, db: Engine):
        self.db = db
        self.data: dict[Key, Series] = {}
        self.stored: dict[datetime, Any] = {}  # bar time → its value as stored
        self.last: dict[Key, Any] = {}
        self.versions: dict[Key, str | None] = {}  # an imported dataset's sha256 when read

    def _drop_replaced(self, keys: list[Key]) -> None:
        """Forget datasets whose import was replaced or removed since they were read (one small
        query per session loaded)."""
        now = {(s, tf): sha for s, tf, sha in fetch_raw(self.db, VERSIONS, ())}
        for key in keys:
            if key in self.data and self.versions.get(key) != now.get(key):
                del self.data[key]
                self.last.pop(key, None)
            self.versions[key] = now.get(key)

    def get(self, key: Key) -> Series:
        if key not in self.data:
            self.data[key] = ([], [])
            with no_cycle_collection():
                self._top_up(key)
        return self.data[key]

    def session_series(self, symbols: tuple[str, ...], timeframe: str) -> dict[str, Series]:
        """The bars of a session's datasets (read again if their import changed)."""
        self._drop_replaced([(symbol, timeframe) for symbol in symbols])
        return {symbol: self.get((symbol, timeframe)) for symbol in symbols}

    def refresh(self) -> int:
        """Append bars stored since the last read (live feeds, a replay still loading)."""
        return sum(self._top_up(key) for key in self.data)

    def _top_up(self, key: Key) -> int:
        times, bars = self.data[key]
        stored, added = self.stored, 0
        while True:
            if key in self.last:
                rows = fetch_raw(self.db, BARS_AFTER, (*key, self.last[key], READ_CHUNK))
            else:
                rows = fetch_raw(self.db, BARS_FROM_START, (*key, READ_CHUNK))
            for raw, o, h, lo, c, v in rows:
                ts = _as_time(raw)
                stored[ts] = raw
                times.append(ts)
                bars.append(BarData(ts, o, h, lo, c, v))
            if rows:
                self.last[key] = rows[-1][0]
            added += len(rows)
            if len(rows) < READ_CHUNK:
                return added
