"""A session's clock: its Trader, its bars, its window and its speed, and how many bars it owes
at any moment (engine.trading.clock's SessionBook holds the running ones)."""

from dataclasses import dataclass
from datetime import datetime

from engine.core.bars import frames, next_index
from engine.core.trader import Outbox, Trader
from engine.market.series import Series
from engine.trading.budget import in_budget_chunks
from engine.trading.store import Batch

FF_CHUNK = 20_000  # bars per commit when fast-forwarding (progress is visible between chunks)
MAX_CATCH_UP_S = 5.0  # a clock that fell behind trades at most this many seconds of bars a tick


@dataclass
class SessionClock:
    """A running session loaded for trading: its Trader, its bars, its window and speed."""

    id: int
    source: str
    trader: Trader
    series: dict[str, Series]
    start: datetime
    end: datetime | None
    rev: int
    speed: float | None  # bars per second; None = as fast as possible
    ff_until: datetime | None = None
    ff_then: float | None = None
    anchor: float = 0.0  # time.monotonic() when the speed last took effect
    anchor_bars: int = 0
    reason: str | None = None  # the wait reason last written for it
    epoch: int = 0  # the lease epoch it was loaded under (PostgreSQL workers; else 0)
    guarded: bool = False  # a user's strategy: its bars run within their time budget
    cursor: int = 0  # one symbol: the index of its next bar (see _advance_one)
    held: Batch | None = None  # bars traded, waiting for the session's checkpoint (SessionBook)

    def retime(self, speed: float | None, ff_until: datetime | None, ff_then: float | None,
               now: float) -> None:
        self.speed, self.ff_until, self.ff_then = speed, ff_until, ff_then
        self.anchor, self.anchor_bars = now, self.trader.ledger.bars_done

    def due(self, now: float) -> int:
        """How many bars the clock owes at `now` (the first is due at once)."""
        if self.speed is None:
            return FF_CHUNK
        owed = int((now - self.anchor) * self.speed) + 1
        owed -= self.trader.ledger.bars_done - self.anchor_bars
        return max(0, min(owed, max(1, int(self.speed * MAX_CATCH_UP_S))))

    @property
    def until(self) -> datetime | None:
        if self.speed is None and self.ff_until is not None:
            return min(self.ff_until, self.end) if self.end else self.ff_until
        return self.end

    def advance(self, max_bars: int, out: Outbox) -> int:
        """Trade up to `max_bars` bar times; return how many there were. A fault of the
        session's own strategy (engine.trading.isolation.FAULTS) comes out of here."""
        if not self.guarded:
            return self._advance(max_bars, out)
        return in_budget_chunks(self._advance, max_bars, out, self.trader.work)

    def _advance(self, max_bars: int, out: Outbox) -> int:
        if len(self.series) == 1:
            return self._advance_one(max_bars, out)
        n = 0
        step = self.trader.step
        for ts, bars in frames(self.series, self.trader.ledger.last_ts, self.until, self.start):
            step(ts, bars, out)
            n += 1
            if n >= max_bars:
                break
        return n

    def _advance_one(self, max_bars: int, out: Outbox) -> int:
        """`_advance` for one symbol, the common case: from the index after the last bar
        traded, kept between ticks (found again by bisection when the bars were replaced)."""
        (symbol, (times, bars)), = self.series.items()
        last, until, step = self.trader.ledger.last_ts, self.until, self.trader.step
        i = self.cursor
        if last is None or not 0 < i <= len(times) or times[i - 1] != last:
            i = next_index(times, last, self.start)
        end = min(len(times), i + max_bars)
        n = 0
        while i < end and (until is None or times[i] <= until):
            step(times[i], [(symbol, bars[i])], out)
            i += 1
            n += 1
        self.cursor = i
        return n

    @property
    def finished(self) -> bool:
        last = self.trader.ledger.last_ts
        return self.end is not None and last is not None and last >= self.end

    @property
    def ff_reached(self) -> bool:
        last = self.trader.ledger.last_ts
        return (self.speed is None and self.ff_until is not None and last is not None
                and last >= self.ff_until)

    def batch(self) -> Batch:
        """The batch for the next bars: the one held for the session's checkpoint (its bars
        come first), else an empty one remembering the drawdown before them."""
        held, self.held = self.held, None
        return held or Batch(self.id, self.trader, Outbox(),
                             dd_before=self.trader.ledger.max_drawdown_pct)

    def waiting_for(self) -> str:
        after = self.trader.ledger.last_ts or self.start
        symbols = ", ".join(self.series)
        return f"waiting for {symbols} bars after {after:%Y-%m-%d %H:%M} (market time)"
