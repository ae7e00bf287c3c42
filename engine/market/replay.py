"""Replay: play the real bars in data/ forward, a fixed number of bars per tick."""

import pandas as pd

from engine import catalog
from engine.strategies import BarData


def _bar(row) -> BarData:
    return BarData(
        row.ts.to_pydatetime(), float(row.open), float(row.high), float(row.low),
        float(row.close), float(row.volume),
    )


class ReplaySource:
    """Every shipped dataset advances `bars_per_tick` bars a tick, all in step.

    `cursor` maps "SYMBOL/TF" to the index of the next bar to emit; the agent persists it so a
    restarted engine continues where it was.
    """

    name = "replay"

    def __init__(self, cursor: dict[str, int], bars_per_tick: int, start: str, warmup: int):
        self.cursor = cursor
        self.bars_per_tick = bars_per_tick
        self.start = pd.Timestamp(start, tz="UTC") if start else None
        self.warmup = warmup

    def _first_index(self, frame: pd.DataFrame) -> int:
        if self.start is None:
            return min(self.warmup, len(frame) - 1)
        return int(frame["ts"].searchsorted(self.start))

    def fetch(self) -> dict[tuple[str, str], list[BarData]]:
        """Return each dataset's next bars; on a dataset's first tick, its warm-up history too."""
        out: dict[tuple[str, str], list[BarData]] = {}
        for symbol, timeframe in catalog.datasets():
            frame = catalog.load(symbol, timeframe)
            key = f"{symbol}/{timeframe}"
            first = key not in self.cursor
            begin = max(0, self._first_index(frame) - self.warmup) if first else self.cursor[key]
            end = (self._first_index(frame) if first else begin) + self.bars_per_tick
            end = min(end, len(frame))
            out[(symbol, timeframe)] = [_bar(r) for r in frame.iloc[begin:end].itertuples()]
            self.cursor[key] = end
        return out

    def finished(self) -> list[tuple[str, str]]:
        """Datasets whose every bar has been played."""
        return [
            (s, tf) for s, tf in catalog.datasets()
            if self.cursor.get(f"{s}/{tf}", 0) >= len(catalog.load(s, tf))
        ]
