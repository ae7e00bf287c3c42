"""A session's strategy at run time: one instance per symbol, the history each sees, its
sentiment input, and the guard around its code.

Everything the strategy's own code does — construction, `warmup`, `on_bar`, `indicators` — runs
through here; what it raises, or returns outside the strategy API, becomes a StrategyError with
a one-line reason naming the strategy's file and line. `Trader.step` unpacks `hot` itself on
every bar (the per-bar path is kept free of calls it does not need).
"""

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.core.bars import TIMEFRAMES, BarData
from engine.core.indicators import RollingMood
from engine.core.news import MOOD_WINDOW, NEWS, PRICE_MOOD, News
from engine.core.settings import TradeSettings
from engine.core.strategies import strategy_class
from engine.core.strategy_api import (
    HISTORY_BARS,
    BarContext,
    Decision,
    History,
    Sentiment,
    Strategy,
    check_decision,
    check_readings,
    check_warmup,
    source_file,
)
from engine.errors import StrategyError

# A NamedTuple made by tuple.__new__ skips its Python-level __new__: half the cost, every bar.
record = tuple.__new__


@dataclass(frozen=True, slots=True)
class Slot:
    """One symbol's strategy instance and the history it sees."""

    strategy: Strategy
    history: History
    push: Callable[[BarData], None]  # appends a bar to the history's ring buffer
    where: str  # names the strategy and symbol in an error


class StrategyRunner:
    """A session's strategy instances, their histories and sentiment input."""

    def __init__(self, settings: TradeSettings, news: News | None = None):
        cls = strategy_class(settings.strategy)
        self.params, self.source = settings.params, source_file(cls)
        self.slots = {s: self._slot(cls, s) for s in settings.symbols}
        # (on_bar, push, history) per symbol as plain tuples: what Trader.step unpacks per bar
        self.hot = {s: (slot.strategy.on_bar, slot.push, slot.history)
                    for s, slot in self.slots.items()}
        where = f"strategy {cls.name!r}"
        self.warmup_bars = check_warmup(self.guarded(where, cls.warmup, settings.params), where)
        self.news = (news or {}) if settings.sentiment == NEWS else None
        self.bar_length = timedelta(seconds=TIMEFRAMES[settings.timeframe])
        self.moods = ({s: RollingMood(MOOD_WINDOW) for s in settings.symbols}
                      if cls.uses_sentiment and settings.sentiment == PRICE_MOOD else None)
        self.reads_sentiment = self.news is not None or self.moods is not None

    def _slot(self, cls: type[Strategy], symbol: str) -> Slot:
        where = f"strategy {cls.name!r} on {symbol}"
        bars: deque[BarData] = deque(maxlen=HISTORY_BARS)
        return Slot(self.guarded(where, cls, self.params), History(bars), bars.append, where)

    def guarded(self, where: str, call: Callable, *args: Any) -> Any:
        """`call(*args)`, the strategy's own code: what it raises becomes a StrategyError."""
        try:
            return call(*args)
        except Exception as exc:
            raise StrategyError.from_exception(exc, self.source, f"{where}: ") from exc

    def raised(self, symbol: str, bar: BarData, exc: Exception) -> StrategyError:
        """The StrategyError for `exc`, raised by the strategy's code on `bar`."""
        where = f"{self.slots[symbol].where}, bar {bar.ts.isoformat()}: "
        return StrategyError.from_exception(exc, self.source, where)

    def checked(self, symbol: str, bar: BarData, decision: object) -> Decision | None:
        """What on_bar returned on `bar`, if within the API (else a StrategyError)."""
        slot = self.slots[symbol]
        try:
            return check_decision(decision, slot.where)
        except StrategyError as error:
            code = type(slot.strategy).on_bar.__code__
            raise StrategyError(f"{error} (bar {bar.ts.isoformat()}; on_bar at "
                                f"{os.path.basename(code.co_filename)}:{code.co_firstlineno})"
                                ) from None

    def readings(self, symbol: str, bar: BarData) -> dict[str, float]:
        """The strategy's indicator values behind the decision on `bar` (for the lineage)."""
        slot = self.slots[symbol]
        try:
            values = slot.strategy.indicators
        except Exception as exc:
            raise self.raised(symbol, bar, exc) from exc
        try:
            return check_readings(values, slot.where)
        except StrategyError as error:
            raise StrategyError(f"{error} (bar {bar.ts.isoformat()})") from None

    def sentiment(self, symbol: str, bar: BarData
                  ) -> tuple[float | None, str | None, Sentiment | None]:
        """(score, source) for the lineage, and what the strategy sees: with `news`, the
        stored scores known at the bar's close (engine.core.news); with `price-mood`, the mood
        of its own closes if the strategy reads sentiment."""
        if self.news is not None:
            series = self.news.get(symbol)
            score = series.at(bar.ts + self.bar_length) if series is not None else None
            source = NEWS
        elif self.moods is not None:
            score, source = self.moods[symbol].update(bar.close), PRICE_MOOD
        else:
            return None, None, None
        return score, source, (None if score is None else record(Sentiment, (score, source)))

    def warm(self, symbol: str, bar: BarData, cash: float) -> None:
        """Show the strategy one bar of history; its decision is checked, then ignored."""
        *_, mood = self.sentiment(symbol, bar)
        on_bar, push, history = self.hot[symbol]
        push(bar)
        try:
            decision = on_bar(record(BarContext, (symbol, bar, history, mood, 0.0, cash)))
        except Exception as exc:
            raise self.raised(symbol, bar, exc) from exc
        if decision is not None:
            self.checked(symbol, bar, decision)
