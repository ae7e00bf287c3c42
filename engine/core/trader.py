"""The per-bar trading core. For each bar of a session, in time order:

1. fill the working orders eligible on this bar (after their latency; next open, limit and stop
   rules; at most the volume cap's share of the bar, the rest working on; slippage with impact,
   fee);
2. mark equity at this bar's close with the holdings after those fills (one snapshot a bar);
3. update indicators, sentiment input and strategy with the bar;
4. apply risk, and queue orders for the next bar.

A `Trader` holds one session's state in memory and writes what happens into an `Outbox`. It is
pure: given the same settings, bars and starting state it returns the same orders, fills and
equity, however the bars are split into calls — which is what makes a session's results
independent of its speed, pauses and restarts.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from engine.core.bars import BarData, max_gap
from engine.core.fill_models import priced_by
from engine.core.fills import OrderTerms, base_price, slippage_bps, slipped
from engine.core.indicators import RollingMood
from engine.core.portfolio import DUST, Account, apply_fill, executable_qty
from engine.core.risk import decide
from engine.core.settings import TradeSettings
from engine.core.strategies import strategy_class

MOOD_WINDOW = 24  # bars behind the price-mood sentiment a replay session's strategy sees
Frame = tuple[datetime, list[tuple[str, BarData]]]  # a bar time and every symbol's bar at it


@dataclass
class WorkingOrder:
    seq: int  # the order's number within its session, 1, 2, 3… (the same in every run)
    symbol: str
    side: str
    qty: float
    decision_ts: datetime  # market time of the bar it was decided on
    order_type: str = "market"
    limit_price: float | None = None
    stop_price: float | None = None
    reason: str = ""
    lineage: dict = field(default_factory=dict)
    filled: float = 0.0  # quantity filled so far (partial fills)
    age: int = 0  # bars of its symbol since the decision bar

    @property
    def remaining(self) -> float:
        rest = self.qty - self.filled
        return 0.0 if rest <= max(DUST, self.qty * 1e-9) else rest

    def terms(self) -> OrderTerms:
        return OrderTerms(self.side, self.order_type, self.decision_ts, self.limit_price,
                          self.stop_price)


@dataclass
class Ledger:
    """The equity path's running figures (returns for Sharpe, peak and drawdown)."""

    marked_equity: float
    peak_equity: float
    max_drawdown_pct: float = 0.0
    ret_n: int = 0
    ret_sum: float = 0.0
    ret_sumsq: float = 0.0
    bars_done: int = 0
    last_ts: datetime | None = None
    first_price: dict[str, float] = field(default_factory=dict)
    last_price: dict[str, float] = field(default_factory=dict)


@dataclass
class Outbox:
    """What a run of bars produced, in order, for the caller to persist or compare."""

    orders: list[WorkingOrder] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    closed: list[tuple[int, str, str | None]] = field(default_factory=list)  # seq, status, why
    filled: dict[int, float] = field(default_factory=dict)  # seq -> quantity filled so far
    snapshots: list[tuple[datetime, float, float]] = field(default_factory=list)  # ts, cash, eq

    def __bool__(self) -> bool:
        return bool(self.snapshots or self.orders or self.fills or self.closed or self.filled)


class Trader:
    """One session's trading state; `step` advances it by one bar time."""

    def __init__(self, settings: TradeSettings, account: Account | None = None,
                 ledger: Ledger | None = None, working: Iterable[WorkingOrder] = (),
                 next_seq: int = 1):
        self.settings = settings
        cls = strategy_class(settings.strategy)
        self.strategies = {s: cls(settings.params) for s in settings.symbols}
        self.moods = ({s: RollingMood(MOOD_WINDOW) for s in settings.symbols}
                      if cls.uses_sentiment else None)
        self.seen: dict[str, datetime | None] = dict.fromkeys(settings.symbols)
        self.max_gaps = {s: max_gap(s, settings.timeframe) for s in settings.symbols}
        cash = settings.starting_cash
        self.account = account or Account(cash=cash)
        self.ledger = ledger or Ledger(marked_equity=cash, peak_equity=cash)
        self.working = sorted(working, key=lambda o: o.seq)
        self.next_seq = next_seq

    @property
    def warmup_bars(self) -> int:
        """Bars of history the strategy sees before the first traded bar."""
        return strategy_class(self.settings.strategy).warmup(self.settings.params)

    def prime(self, series: dict[str, tuple[list[datetime], list[BarData]]],
              start: datetime, upto: datetime | None = None) -> None:
        """Warm the strategies on the `warmup_bars` before `start`, then (a restored session)
        on every bar from `start` through `upto`, exactly as trading would have fed them."""
        for symbol, (times, bars) in series.items():
            first = bisect_left(times, start)
            end = first if upto is None else bisect_right(times, upto)
            for bar in bars[max(0, first - self.warmup_bars):end]:
                self.warm(symbol, bar)
        for order in self.working if upto is not None else ():
            times = series[order.symbol][0]  # a restored order's age: its bars since decided
            order.age = bisect_right(times, upto) - bisect_right(times, order.decision_ts)

    def _sentiment(self, symbol: str, bar: BarData,
                   given: dict[str, tuple[float, str]] | None) -> tuple[float | None, str | None]:
        if given is not None:
            return given.get(symbol, (None, None))
        if self.moods is None:
            return None, None
        return self.moods[symbol].update(bar.close), "price-mood"

    def warm(self, symbol: str, bar: BarData) -> None:
        """Show the strategy one bar of history (before the window: no orders, no marking)."""
        score, _ = self._sentiment(symbol, bar, None)
        self.strategies[symbol].on_bar(bar, score)
        self.seen[symbol] = bar.ts

    def step(self, ts: datetime, bars: list[tuple[str, BarData]], out: Outbox,
             sentiment: dict[str, tuple[float, str]] | None = None) -> None:
        """Trade one bar time: `bars` holds each symbol's bar at `ts` (symbols without a bar
        then keep their last price). `sentiment`, when given, is what was known at `ts`;
        otherwise the strategy sees the price mood of its own bars."""
        if self.working:
            self._fill(bars, out)
        ledger = self.ledger
        last, first = ledger.last_price, ledger.first_price
        for symbol, bar in bars:
            last[symbol] = bar.close
            if symbol not in first:
                first[symbol] = bar.close
        self._mark(ts, out)
        moods, seen, account = self.moods, self.seen, self.account
        for symbol, bar in bars:
            if sentiment is not None:
                score, source = sentiment.get(symbol, (None, None))
            elif moods is not None:
                score, source = moods[symbol].update(bar.close), "price-mood"
            else:
                score = source = None
            strategy = self.strategies[symbol]
            signal = strategy.on_bar(bar, score)
            previous, seen[symbol] = seen[symbol], bar.ts
            if previous is not None and bar.ts - previous > self.max_gaps[symbol]:
                continue  # never trade on the bar after a gap
            if self.working and any(o.symbol == symbol for o in self.working):
                continue  # one working order per symbol
            holding = account.holdings.get(symbol)
            if signal is None and (holding is None or holding.qty <= 0):
                continue
            decision = decide(self.settings, bar, signal, holding,
                              equity=ledger.marked_equity, cash=account.cash)
            if decision is not None:
                self._order(symbol, bar, decision, strategy.indicators, score, source, out)

    def _order(self, symbol, bar, decision, indicators, score, source, out: Outbox) -> None:
        side, qty, rule = decision
        order = WorkingOrder(
            seq=self.next_seq, symbol=symbol, side=side, qty=qty, decision_ts=bar.ts,
            reason=rule,
            lineage={"bar_ts": bar.ts.isoformat(), "close": bar.close,
                     "indicators": dict(indicators), "sentiment": score,
                     "sentiment_source": source, "rule": rule})
        self.next_seq += 1
        self.working.append(order)
        out.orders.append(order)

    def _fill(self, bars: list[tuple[str, BarData]], out: Outbox) -> None:
        by_symbol = dict(bars)
        s = self.settings
        still = []
        taken: dict[str, float] = {}  # quantity filled per symbol on this bar (the cap is shared)
        for order in self.working:
            bar = by_symbol.get(order.symbol)
            if bar is None or bar.ts <= order.decision_ts:
                still.append(order)
                continue
            order.age += 1
            if order.age <= s.latency_bars:
                still.append(order)
                continue
            closed = self._execute(order, bar, out, taken)
            if closed is not None:
                out.closed.append((order.seq, *closed))
            elif (s.cancel_after_bars is not None
                  and order.age - s.latency_bars >= s.cancel_after_bars):
                out.closed.append((order.seq, "cancelled",
                                   f"{order.remaining:.8g} unfilled after "
                                   f"{s.cancel_after_bars} bars"))
            else:
                still.append(order)
        self.working = still

    def _execute(self, order: WorkingOrder, bar: BarData, out: Outbox,
                 taken: dict[str, float]) -> tuple[str, str | None] | None:
        """Fill what the bar allows of `order`; return its final (status, why), or None while
        some of it is still working."""
        s, account = self.settings, self.account
        found = base_price(order.terms(), bar, s.fill_price)
        if found is None:
            return None
        base, slips = found
        want = order.remaining
        if s.volume_cap_pct is not None:
            room = bar.volume * s.volume_cap_pct / 100 - taken.get(order.symbol, 0.0)
            want = min(want, room)
            if want <= DUST:
                return None  # the bar traded nothing this order may take
        qty, price, bps = self._priced(order, bar, base, slips, want)
        if qty == 0:
            if order.filled:
                return "cancelled", ("no cash for the rest" if order.side == "buy"
                                     else "nothing left to sell")
            return "rejected", "no cash to buy" if order.side == "buy" else "nothing to sell"
        fee, realized = apply_fill(account, order.symbol, order.side, qty, price, s.fee_bps)
        order.filled += qty
        taken[order.symbol] = taken.get(order.symbol, 0.0) + qty
        out.filled[order.seq] = order.filled
        share = qty / bar.volume if bar.volume > 0 else None
        out.fills.append({"seq": order.seq, "symbol": order.symbol, "side": order.side,
                          "qty": qty, "price": price, "fee": fee, "realized_pnl": realized,
                          "bar_ts": bar.ts, "loss_streak": account.loss_streak,
                          "priced_by": priced_by(s, bps, share)})
        if qty < want - max(DUST, want * 1e-9):
            return "filled", None  # cut to the cash or holding there is: nothing more to do
        return None if order.remaining else ("filled", None)

    def _priced(self, order: WorkingOrder, bar: BarData, base: float, slips: bool,
                want: float) -> tuple[float, float, float]:
        """(qty, price, slippage bps) of a fill of up to `want`: the quantity is clipped to
        the cash or holding there is, and the impact is that of the quantity filled."""
        s, account = self.settings, self.account
        bps = slippage_bps(s.slippage_bps, s.impact_bps, want, bar.volume) if slips else 0.0
        price = slipped(base, order.side, bps)
        qty = executable_qty(account, order.symbol, order.side, want, price, s.fee_bps)
        if slips and 0 < qty < want and s.impact_bps:
            bps = slippage_bps(s.slippage_bps, s.impact_bps, qty, bar.volume)
            price = slipped(base, order.side, bps)  # a smaller fill moves the price less
        return qty, price, bps

    def _mark(self, ts: datetime, out: Outbox) -> None:
        ledger, account = self.ledger, self.account
        prices = ledger.last_price
        equity = account.cash
        for symbol, holding in account.holdings.items():
            if holding.qty:
                equity += holding.qty * prices[symbol]
        if ledger.bars_done:
            previous = ledger.marked_equity
            r = equity / previous - 1 if previous > 0 else 0.0
            ledger.ret_n += 1
            ledger.ret_sum += r
            ledger.ret_sumsq += r * r
        ledger.marked_equity = equity
        if equity > ledger.peak_equity:
            ledger.peak_equity = equity
        peak = ledger.peak_equity
        drawdown = (peak - equity) / peak * 100 if peak > 0 else 0.0
        if drawdown > ledger.max_drawdown_pct:
            ledger.max_drawdown_pct = drawdown
        ledger.bars_done += 1
        ledger.last_ts = ts
        out.snapshots.append((ts, account.cash, equity))


def replay(settings: TradeSettings, series: dict[str, tuple[list[datetime], list[BarData]]],
           start: datetime, until: datetime | None) -> tuple[Outbox, "Trader"]:
    """Fast-forward a fresh Trader through every bar time from `start` through `until`
    (primed on the warm-up bars before `start`), in memory; return what it produced and the
    trader (its account and ledger at the end)."""
    trader = Trader(settings)
    out = Outbox()
    trader.prime(series, start)
    for ts, frame in frames(series, None, until, start):
        trader.step(ts, frame, out)
    return out, trader


def frames(series: dict[str, tuple[list[datetime], list[BarData]]], after: datetime | None,
           until: datetime | None, start: datetime | None = None) -> Iterable[Frame]:
    """Merge several symbols' bars into bar times in order: those after `after` (and at or
    after `start`) up to `until` (inclusive; None = no end)."""
    pointers, lists = {}, {}
    for symbol, (times, bars) in series.items():
        i = bisect_right(times, after) if after is not None else 0
        if start is not None:
            i = max(i, bisect_left(times, start))
        pointers[symbol], lists[symbol] = i, (times, bars)
    if len(series) == 1:
        (symbol, (times, bars)), = lists.items()
        for i in range(pointers[symbol], len(times)):
            ts = times[i]
            if until is not None and ts > until:
                return
            yield ts, [(symbol, bars[i])]
        return
    while True:
        heads = [lists[s][0][i] for s, i in pointers.items() if i < len(lists[s][0])]
        if not heads:
            return
        ts = min(heads)
        if until is not None and ts > until:
            return
        frame = []
        for symbol, i in pointers.items():
            times, bars = lists[symbol]
            if i < len(times) and times[i] == ts:
                frame.append((symbol, bars[i]))
                pointers[symbol] = i + 1
        yield ts, frame
