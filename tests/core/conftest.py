"""What the core's tests share: shipped bars as the Trader takes them, hand-made bars, and
strategies registered for one test only."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import strategies as st

from engine.core.bars import BarData
from engine.core.strategies import STRATEGIES, register
from engine.core.strategy_api import Strategy
from engine.market import catalog

T0 = datetime(2020, 1, 1, tzinfo=UTC)
Series = dict[str, tuple[list[datetime], list[BarData]]]


def bars_of(frame: pd.DataFrame) -> list[BarData]:
    return [BarData(ts.to_pydatetime(), float(o), float(h), float(lo), float(c), float(v))
            for ts, o, h, lo, c, v in zip(frame["ts"], frame["open"], frame["high"],
                                           frame["low"], frame["close"], frame["volume"],
                                           strict=True)]


def shipped(symbol: str, timeframe: str) -> tuple[pd.DataFrame, Series]:
    """A shipped dataset as a DataFrame and as the series the Trader replays."""
    frame = catalog.load(symbol, timeframe)
    bars = bars_of(frame)
    return frame, {symbol: ([b.ts for b in bars], bars)}


@st.composite
def bar_series(draw, fewest: int, most: int, low: float, high: float,
               volumes: tuple[float, ...], first: int = 0) -> list[BarData]:
    """Hourly bars from T0 + `first` hours: an open and a close in [low, high], the high and
    low up to 20 % beyond them, a volume among `volumes`."""
    bars = []
    for i in range(first, first + draw(st.integers(fewest, most))):
        o, c = draw(st.floats(low, high)), draw(st.floats(low, high))
        hi = max(o, c) * (1 + draw(st.floats(0, 0.2)))
        lo = min(o, c) * (1 - draw(st.floats(0, 0.2)))
        bars.append(BarData(T0 + timedelta(hours=i), o, hi, lo, c,
                            draw(st.sampled_from(volumes))))
    return bars


def hourly(closes: list[float], start: datetime = T0) -> list[BarData]:
    """Hand-made hourly bars: open = close, a 0.1 % range either side."""
    return [BarData(start + timedelta(hours=i), c, c * 1.001, c * 0.999, c, 1.0)
            for i, c in enumerate(closes)]


@pytest.fixture
def registered() -> Iterator[Callable[[type[Strategy]], type[Strategy]]]:
    """Register strategy classes for this test; the registry is as it was afterwards."""
    before = dict(STRATEGIES)

    def add(cls: type[Strategy]) -> type[Strategy]:
        return register(cls, replace=True)

    yield add
    STRATEGIES.clear()
    STRATEGIES.update(before)
