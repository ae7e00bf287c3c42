"""Stored bars in memory: one sorted list per dataset, shared by every session that trades it."""

from datetime import datetime

from sqlalchemy import Engine

from engine.core.bars import BarData
from engine.market.bars import bars_after

Key = tuple[str, str]  # (symbol, timeframe)
Series = tuple[list[datetime], list[BarData]]  # bar times and bars, ascending
READ_CHUNK = 50_000


class BarCache:
    """Datasets read from the bar table once, then topped up with newer bars on `refresh`."""

    def __init__(self, db: Engine):
        self.db = db
        self.data: dict[Key, Series] = {}

    def get(self, key: Key) -> Series:
        if key not in self.data:
            self.data[key] = ([], [])
            self._top_up(key)
        return self.data[key]

    def session_series(self, symbols: tuple[str, ...], timeframe: str) -> dict[str, Series]:
        return {symbol: self.get((symbol, timeframe)) for symbol in symbols}

    def refresh(self) -> int:
        """Append bars stored since the last read (live feeds, a replay still loading)."""
        return sum(self._top_up(key) for key in self.data)

    def _top_up(self, key: Key) -> int:
        times, bars = self.data[key]
        added = 0
        while True:
            new = bars_after(self.db, *key, times[-1] if times else None, limit=READ_CHUNK)
            times.extend(b.ts for b in new)
            bars.extend(new)
            added += len(new)
            if len(new) < READ_CHUNK:
                return added
