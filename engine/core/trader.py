"""The per-bar trading core. For each bar of a session, in time order:

0. apply the operator's interventions recorded after an earlier bar (Close position: cancel
   the working orders and queue a market sell of every holding, decided on that earlier bar);
1. fill the working orders eligible on this bar (after their latency; next open, limit and stop
   rules; at most the volume cap's share of the bar, the rest working on; slippage with impact,
   fee);
2. mark equity at this bar's close with the holdings after those fills (one snapshot a bar);
3. update indicators, sentiment input and strategy with the bar (the strategy API's
   `on_bar(BarContext)`, its answer checked against that API);
4. apply risk, and queue orders for the next bar.

A `Trader` holds one session's state in memory and writes what happens into an `Outbox`. It is
pure: given the same settings, bars, interventions and starting state it returns the same
orders, fills and equity, however the bars are split into calls — which is what makes a
session's results independent of its speed, pauses and restarts. A strategy that raises or
answers outside the API makes `step` and `prime` raise StrategyError, naming its file and line.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from engine.core.bars import BarData, frames, max_gap
from engine.core.fill_models import priced_by
from engine.core.fills import OrderTerms, Pricing, base_price
from engine.core.news import News
from engine.core.portfolio import DUST, Account, apply_fill, executable_qty
from engine.core.records import MANUAL, STRATEGY, FillRecord, Intervention, OrderOutcome
from engine.core.risk import Exits, decide
from engine.core.runner import StrategyRunner, record
from engine.core.settings import TradeSettings
from engine.core.strategy_api import BarContext, decision_extras
from engine.core.walk_rule import Reselector


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
    origin: str = STRATEGY  # or MANUAL: an operator's intervention
    by: str | None = None  # who placed a manual order

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
    fills: list[FillRecord] = field(default_factory=list)
    closed: list[OrderOutcome] = field(default_factory=list)
    filled: dict[int, float] = field(default_factory=dict)  # seq -> quantity filled so far
    snapshots: list[tuple[datetime, float, float]] = field(default_factory=list)  # ts, cash, eq

    def __bool__(self) -> bool:
        return bool(self.snapshots or self.orders or self.fills or self.closed or self.filled)


class Trader:
    """One session's trading state; `step` advances it by one bar time."""

    def __init__(self, settings: TradeSettings, account: Account | None = None,
                 ledger: Ledger | None = None, working: Iterable[WorkingOrder] = (),
                 next_seq: int = 1, exits: dict[str, Exits] | None = None,
                 news: News | None = None, interventions: Iterable[Intervention] = ()):
        self.settings = settings
        self.runner = StrategyRunner(settings, news)  # `news`: a `news` session's scores
        self.walk = (Reselector(settings, replay, news) if settings.walk_rule is not None
                     else None)
        # bars seen before the first traded bar
        self.warmup_bars = self.walk.lookback if self.walk else self.runner.warmup_bars
        self.seen: dict[str, datetime | None] = dict.fromkeys(settings.symbols)
        self.max_gaps = {s: max_gap(settings.asset_class(s), settings.timeframe)
                         for s in settings.symbols}
        cash = settings.starting_cash
        self.account = account or Account(cash=cash)
        self.ledger = ledger or Ledger(marked_equity=cash, peak_equity=cash)
        self.working = sorted(working, key=lambda o: o.seq)
        self.next_seq = next_seq
        # each held position's own stop-loss / take-profit, from the decision that opened it
        # (a restored session passes those of its positions' entry orders)
        self.exits: dict[str, Exits] = dict(exits or {})
        # the operator's interventions still to apply (a restored session has applied those
        # before its last traded bar)
        last = self.ledger.last_ts
        self.pending = sorted((i for i in interventions if last is None or i.after_bar >= last),
                              key=lambda i: i.after_bar)

    def prime(self, series: dict[str, tuple[list[datetime], list[BarData]]],
              start: datetime, upto: datetime | None = None) -> None:
        """Warm the strategies on the `warmup_bars` before `start`, then (a restored session)
        on every bar from `start` through `upto`, exactly as trading would have fed them."""
        if self.walk is not None:
            self._prime_walk(series, start, upto)
        else:
            for symbol, (times, bars) in series.items():
                first = bisect_left(times, start)
                end = first if upto is None else bisect_right(times, upto)
                for bar in bars[max(0, first - self.warmup_bars):end]:
                    self.warm(symbol, bar)
        for order in self.working if upto is not None else ():
            times = series[order.symbol][0]  # a restored order's age: its bars since decided
            order.age = bisect_right(times, upto) - bisect_right(times, order.decision_ts)

    def _prime_walk(self, series, start: datetime, upto: datetime | None) -> None:
        """Remember the bars a walk-forward choice reads; a restored session re-makes its last
        choice from the bars before that choice's bar and warms it through `upto`."""
        walk, done = self.walk, self.ledger.bars_done
        traded = [ts for ts, _ in frames(series, None, upto, start)] if done else []
        cut = traded[(done - 1) // walk.rule.step_bars * walk.rule.step_bars] if done else start
        for symbol, (times, bars) in series.items():
            first = bisect_left(times, cut)
            for bar in bars[max(0, first - walk.lookback):first]:
                walk.remember(symbol, bar)
                self.seen[symbol] = bar.ts
        if not done:
            return
        self.runner = walk.runner(self.settings.starting_cash)
        for symbol, (times, bars) in series.items():
            for bar in bars[bisect_left(times, cut):bisect_right(times, upto)]:
                self.warm(symbol, bar)
                walk.remember(symbol, bar)

    def work(self, bars: int) -> int:
        """Bars of strategy code the next `bars` bar times run (a walk-forward's choices
        included): what a user strategy's time budget allows for."""
        if self.walk is None:
            return bars
        return bars + self.walk.choices_within(self.ledger.bars_done, bars) * self.walk.choice_work

    def priming_work(self) -> int:
        """Bars of strategy code `prime` runs for this trader's state."""
        done = self.ledger.bars_done
        return done + self.warmup_bars + (self.walk.choice_work if self.walk and done else 0)

    def use_news(self, news: News) -> None:
        """Read `news` from the next bar on (a live `news` session's newly stored scores)."""
        if self.runner.news is not None:
            self.runner.news = news
        if self.walk is not None:
            self.walk.news = news

    def warm(self, symbol: str, bar: BarData) -> None:
        """Show the strategy one bar of history (no orders, no marking; the context as before
        the first bar: nothing held, the starting cash)."""
        self.runner.warm(symbol, bar, self.settings.starting_cash)
        self.seen[symbol] = bar.ts

    def step(self, ts: datetime, bars: list[tuple[str, BarData]], out: Outbox) -> None:
        """Trade one bar time: `bars` holds each symbol's bar at `ts` (symbols without a bar
        then keep their last price); the strategy sees the session's sentiment input."""
        if self.walk is not None:
            self._walk_step(bars)
        while self.pending and self.pending[0].after_bar < ts:
            self._close_all(self.pending.pop(0), out)
        if self.working:
            self._fill(bars, out)
        self._mark(ts, bars, out)
        ledger = self.ledger
        runner, seen, account, settings = self.runner, self.seen, self.account, self.settings
        hot, reads_sentiment = runner.hot, runner.reads_sentiment
        for symbol, bar in bars:
            if reads_sentiment:
                score, source, mood = runner.sentiment(symbol, bar)
            else:
                score = source = mood = None
            on_bar, push, history = hot[symbol]
            push(bar)
            holding = account.holdings.get(symbol)
            qty = holding.qty if holding is not None else 0.0
            try:
                decision = on_bar(record(BarContext, (symbol, bar, history, mood, qty,
                                                      account.cash)))
            except Exception as exc:
                raise runner.raised(symbol, bar, exc) from exc
            if decision is not None:
                runner.checked(symbol, bar, decision)
            previous, seen[symbol] = seen[symbol], bar.ts
            if previous is not None and bar.ts - previous > self.max_gaps[symbol]:
                continue  # never trade on the bar after a gap
            if self.working and any(o.symbol == symbol for o in self.working):
                continue  # one working order per symbol
            if decision is None and (qty <= 0 or not (
                    settings.stop_loss_pct or settings.take_profit_pct or symbol in self.exits)):
                continue  # no decision, and no stop-loss or take-profit to watch
            order = decide(settings, bar, decision, holding, equity=ledger.marked_equity,
                           cash=account.cash, exits=self.exits.get(symbol))
            if order is not None:
                self._order(symbol, bar, order, decision, score, source, out)

    def _walk_step(self, bars: list[tuple[str, BarData]]) -> None:
        """Choose anew when the schedule says so (from the bars before this one), then
        remember this bar time's bars."""
        walk = self.walk
        if walk.due(self.ledger.bars_done):
            self.runner = walk.runner(self.settings.starting_cash)
        for symbol, bar in bars:
            walk.remember(symbol, bar)

    def _order(self, symbol, bar, order, decision, score, source, out: Outbox) -> None:
        side, qty, rule = order
        indicators = self.runner.readings(symbol, bar)
        lineage = {"bar_ts": bar.ts.isoformat(), "close": bar.close, "indicators": indicators,
                   "sentiment": score, "sentiment_source": source, "rule": rule}
        if self.walk is not None:
            lineage["params"] = dict(self.runner.params)  # the walk-forward's current choice
        if side == "buy" and decision is not None:
            lineage |= decision_extras(decision)  # the decision's own size, stop, take-profit
        working = WorkingOrder(seq=self.next_seq, symbol=symbol, side=side, qty=qty,
                               decision_ts=bar.ts, reason=rule, lineage=lineage)
        self.next_seq += 1
        self.working.append(working)
        out.orders.append(working)

    def _close_all(self, act: Intervention, out: Outbox) -> None:
        """An operator's close: cancel the working orders, then sell every holding with a
        market order decided on the intervention's bar, which fills from this bar on through
        the fill model like any order."""
        for order in self.working:
            out.closed.append(OrderOutcome(order.seq, "cancelled",
                                           f"replaced by a manual close by {act.by}"))
        self.working = []
        for symbol in sorted(self.account.holdings):  # sorted: the same order numbers always
            qty = self.account.holdings[symbol].qty
            if qty <= DUST:
                continue
            lineage = {"rule": "manual close", "by": act.by,
                       "bar_ts": act.after_bar.isoformat(),
                       "close": self.ledger.last_price.get(symbol)}
            order = WorkingOrder(seq=self.next_seq, symbol=symbol, side="sell", qty=qty,
                                 decision_ts=act.after_bar, reason="manual close",
                                 lineage=lineage, origin=MANUAL, by=act.by)
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
                out.closed.append(OrderOutcome(order.seq, *closed))
            elif (s.cancel_after_bars is not None
                  and order.age - s.latency_bars >= s.cancel_after_bars):
                out.closed.append(OrderOutcome(order.seq, "cancelled",
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
        fee, realized = apply_fill(account, order.symbol, side=order.side, qty=qty, price=price,
                                   fee_bps=s.fee_bps)
        if order.side == "buy":
            self._entered(order)
        order.filled += qty
        taken[order.symbol] = taken.get(order.symbol, 0.0) + qty
        out.filled[order.seq] = order.filled
        share = qty / bar.volume if bar.volume > 0 else None
        out.fills.append(FillRecord(order.seq, order.symbol, order.side, qty, price, fee,
                                    realized, bar.ts, account.loss_streak,
                                    priced_by(s, bps, share)))
        if qty < want - max(DUST, want * 1e-9):
            return "filled", None  # cut to the cash or holding there is: nothing more to do
        return None if order.remaining else ("filled", None)

    def _entered(self, order: WorkingOrder) -> None:
        """Give the position the stop-loss and take-profit of the decision that opened it."""
        lineage = order.lineage or {}
        stop, take = lineage.get("stop_loss_pct"), lineage.get("take_profit_pct")
        if stop is None and take is None:
            self.exits.pop(order.symbol, None)
        else:
            self.exits[order.symbol] = Exits(stop, take)

    def _priced(self, order: WorkingOrder, bar: BarData, base: float, slips: bool,
                want: float) -> tuple[float, float, float]:
        """(qty, price, slippage bps) of a fill of up to `want`: the quantity is clipped to
        the cash (at the price its own size makes) or the holding there is, and the impact is
        that of the quantity filled."""
        s = self.settings
        pricing = (Pricing(base, order.side, s.slippage_bps, s.impact_bps, bar.volume) if slips
                   else Pricing(base, order.side))
        qty = executable_qty(self.account, order.symbol, want, pricing, s.fee_bps)
        return qty, pricing.price(qty), pricing.bps(qty)

    def _mark(self, ts: datetime, bars: list[tuple[str, BarData]], out: Outbox) -> None:
        """Take the bars' closes as the last prices and mark equity at them."""
        ledger, account = self.ledger, self.account
        prices, first = ledger.last_price, ledger.first_price
        for symbol, bar in bars:
            prices[symbol] = bar.close
            if symbol not in first:
                first[symbol] = bar.close
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
           start: datetime, until: datetime | None, news: News | None = None,
           interventions: Iterable[Intervention] = ()) -> tuple[Outbox, "Trader"]:
    """Fast-forward a fresh Trader through every bar time from `start` through `until`
    (primed on the warm-up bars before `start`), in memory, applying the operator's
    `interventions` at their bars; return what it produced and the trader (its account and
    ledger at the end). `news`: a `news` session's scores."""
    trader = Trader(settings, news=news, interventions=interventions)
    out = Outbox()
    trader.prime(series, start)
    for ts, frame in frames(series, None, until, start):
        trader.step(ts, frame, out)
    return out, trader
