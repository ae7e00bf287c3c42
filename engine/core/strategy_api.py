"""The strategy API: the one contract every strategy implements, the built-ins and your own.

A strategy file imports this module (and the standard library) only, and defines a subclass
of `Strategy`::

    from engine.core.strategy_api import BUY, SELL, BarContext, Decision, Param, Strategy, declare

    class Breakout(Strategy):
        name = "breakout"  # unique id: lower-case letters, digits and _
        title = "Channel breakout"  # shown in the dashboard
        params = declare(Param("window", int, 20, "bars in the channel", 2, 400))

        def on_bar(self, ctx: BarContext) -> Decision | None:
            past = ctx.history[-self.p["window"] - 1:-1]  # the window before this bar
            if len(past) == self.p["window"] and ctx.bar.close > max(b.high for b in past):
                return Decision(BUY, "close above the channel")
            return None

Parameters: `Param(name, kind, default, help, low, high, choices=())`, kind int, float, bool or
str (with `choices`); `declare(...)` makes the `params` mapping. The session's values arrive
checked in `self.p` (a dict by name). Override the classmethod `validate` for a rule across
parameters (raise `BadInput`, naming them).

Warm-up: the strategy first sees the `warmup(params)` bars before the session's first bar, its
decisions there ignored: `warmup_bars` if the class sets it, else the largest int parameter + 2
(2 without one); override the classmethod `warmup` for a rule of your own.

Each bar: `on_bar(ctx)` is called once per bar of the symbol, in time order, after that bar's
fills. `ctx` (a `BarContext`) holds `symbol`; `bar` (ts = the bar's open time in UTC, open,
high, low, close, volume; the bar is complete); `history`, the last `HISTORY_BARS` (500) bars at
most, oldest first, ending with `bar` (a read-only view that moves on with the next bar: keep
values, not the view); `sentiment`, a `Sentiment(score in [-1, 1], source)` known at the bar's
close, or None: the session chooses it (engine/core/news.py) — `news`, the mean of the
symbol's headline scores published in the 24 h before the close (every strategy gets it);
`price-mood`, the mood of its own closes (only if the class sets `uses_sentiment = True`);
`none`; `position_qty`, units held; `cash`, in quote currency.

Return `HOLD` (None) or a `Decision(side, rule, size=None, stop_loss_pct=None,
take_profit_pct=None)`: `rule` is one line saying why (the order's reason). Long only, one
entry: BUY when flat opens a position, SELL when held closes all of it, each an order for the
next bar's open; any other decision is ignored. A buy's `size` (0 < size <= 1) replaces the
session's position size (the fraction of equity an entry spends, split across the session's
symbols, at most the cash there is); its `stop_loss_pct` (0 <= x < 100) and `take_profit_pct`
(>= 0) replace the session's for that position, 0 turning one off. The numbers in
`self.readings` (name -> number) when an order is placed are recorded in its lineage.

Chart: `chart = (SmaLine("fast"), SmaLine("slow"))` draws the simple moving averages of the close
over those parameters' bars on the session's candles; `chart = (RsiChart("period"),)` draws
Wilder's RSI under them, with the levels of the parameters `oversold` and `overbought`.

Rules: no I/O, no wall clock, no unseeded randomness: the same bars give the same decisions at
any replay speed. Keep state on `self`; there is one instance per (session, symbol). After an
engine restart a session's strategies are rebuilt by calling `on_bar` on its past bars again,
with `position_qty` 0 and the starting cash: state kept on `self` must follow from the bars, the
sentiment and your own decisions, not from the position or cash. An exception in your code, or
a return outside this contract, becomes a one-line `StrategyError` naming your file and line,
for the sessions running the strategy (only them).
"""

import math
import re
import sys
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from numbers import Real
from typing import Any, ClassVar, NamedTuple

from engine.core.bars import BarData
from engine.core.portfolio import DUST
from engine.errors import BadInput, StrategyError
from engine.params import Param, parse_params

__all__ = ["BUY", "HISTORY_BARS", "HOLD", "SELL", "BadInput", "BarContext", "Decision",
           "History", "Param", "RsiChart", "Sentiment", "SmaLine", "Strategy", "StrategyError",
           "check_decision", "declare"]

HISTORY_BARS = 500  # bars in BarContext.history at most (the longest built-in average is 500)
BUY, SELL = "buy", "sell"
HOLD = None
MAX_SIZE = 1.0  # a decision's size: above dust (portfolio.DUST), at most all of the equity
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
KINDS = (int, float, bool, str)


class SmaLine(NamedTuple):
    """Chart the simple moving average of the close over the bars in parameter `param`."""

    param: str


class RsiChart(NamedTuple):
    """Chart Wilder's RSI over the bars in parameter `period`, with its buy and sell levels
    from the parameters `oversold` and `overbought` (30 and 70 without them)."""

    period: str = "period"
    oversold: str = "oversold"
    overbought: str = "overbought"


ChartItem = SmaLine | RsiChart


class Sentiment(NamedTuple):
    """A sentiment score known at the bar's close: -1 (bearish) … 1 (bullish), and where it
    came from ("news", "price-mood")."""

    score: float
    source: str


class History(Sequence):
    """A read-only view of one symbol's last bars (at most `HISTORY_BARS`), oldest first.

    Index it like a list: `history[-1]` is this bar, `history[-20:]` a tuple of the last 20."""

    __slots__ = ("_bars",)

    def __init__(self, bars: deque):
        self._bars = bars

    def __len__(self) -> int:
        return len(self._bars)

    def __iter__(self) -> Iterator[BarData]:
        return iter(self._bars)

    def __reversed__(self) -> Iterator[BarData]:
        return reversed(self._bars)

    def __getitem__(self, index):
        bars = self._bars
        if not isinstance(index, slice):
            return bars[index]
        n = len(bars)
        start, stop, step = index.indices(n)
        if step != 1:
            return tuple(bars)[index]
        if stop <= start:
            return ()
        if n - stop < start:  # nearer the end: walk from there
            return tuple(islice(reversed(bars), n - stop, n - start))[::-1]
        return tuple(islice(bars, start, stop))

    def __repr__(self) -> str:
        return f"History({len(self._bars)} bars)"


class BarContext(NamedTuple):
    """What a strategy sees on one bar (immutable; a tuple, cheap to make every bar)."""

    symbol: str
    bar: BarData
    history: History  # the last bars, ending with `bar`
    sentiment: Sentiment | None
    position_qty: float  # units of `symbol` held
    cash: float  # quote currency


def _number(value: Any) -> float | None:
    """`value` as a float if it is a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


LIMITS = {  # a decision's optional numbers: the rule each must meet, and that rule in words
    "size": (lambda x: DUST < x <= MAX_SIZE, "above 0 (more than 1e-12) and at most 1"),
    "stop_loss_pct": (lambda x: 0 <= x < 100, "at least 0 and below 100"),
    "take_profit_pct": (lambda x: x >= 0, "at least 0"),
}


def _problem(d: "Decision") -> str | None:
    """What is wrong with a decision's fields, or None."""
    if d.side not in (BUY, SELL):
        return f"side must be {BUY!r} or {SELL!r} (got {d.side!r:.40})"
    if not isinstance(d.rule, str) or not d.rule.strip() or "\n" in d.rule:
        return f"rule must be one line of text (got {d.rule!r:.60})"
    if d.size is None and d.stop_loss_pct is None and d.take_profit_pct is None:
        return None
    for field, (ok, what) in LIMITS.items():
        value = getattr(d, field)
        if value is None:
            continue
        number = _number(value)
        if number is None or not ok(number):
            return f"{field} must be a finite number {what} (got {value!r:.40})"
        if d.side == SELL:
            return f"{field} applies to a buy only (got it on a sell)"
    return None


@dataclass(frozen=True, slots=True)
class Decision:
    """An order to place on the next bar: BUY (enter) or SELL (exit all), and why. Checked when
    made: a bad field raises ValueError naming it."""

    side: str
    rule: str
    size: float | None = None  # fraction of equity, 0 < size <= 1; None = the session's
    stop_loss_pct: float | None = None  # this position's stop-loss; None = the session's
    take_profit_pct: float | None = None  # this position's take-profit; None = the session's

    def __post_init__(self):
        problem = _problem(self)
        if problem:
            raise ValueError(f"Decision {problem}")
        for field in LIMITS:  # a numpy or int number becomes a plain float
            value = getattr(self, field)
            if value is not None and type(value) is not float:
                object.__setattr__(self, field, float(value))


def declare(*params: Param) -> dict[str, Param]:
    """A strategy's `params` mapping: each parameter by its name, in order."""
    return {p.name: p for p in params}


class Strategy:
    """Base of every strategy: declare the class attributes, implement `on_bar`."""

    name: ClassVar[str]
    title: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}
    warmup_bars: ClassVar[int | None] = None  # None: derived from the int parameters
    uses_sentiment: ClassVar[bool] = False  # True: the price mood when the session has no news
    chart: ClassVar[tuple[ChartItem, ...]] = ()  # what the session's candles draw beside them

    def __init__(self, params: dict[str, Any]):
        """Set up state (override it, calling super().__init__(params) first)."""
        self.p = params
        self.readings: dict[str, float] = {}

    @property
    def indicators(self) -> dict[str, float]:
        """The values behind the last decision, for the order's lineage (built only when an
        order is placed): `self.readings` unless a strategy overrides this."""
        return dict(self.readings)

    @classmethod
    def validate(cls, given: dict[str, Any]) -> dict[str, Any]:
        """The session's parameters checked and completed with defaults; BadInput names the
        parameter at fault."""
        return parse_params(cls.params, given, where="param ")

    @classmethod
    def warmup(cls, params: dict[str, Any]) -> int:
        """Bars of history the strategy sees before the first traded bar."""
        if cls.warmup_bars is not None:
            return cls.warmup_bars
        sizes = [params.get(name, p.default) for name, p in cls.params.items() if p.kind is int]
        return max([v for v in sizes if isinstance(v, int)], default=0) + 2

    def on_bar(self, ctx: BarContext) -> Decision | None:
        """Decide on this bar: a Decision, or HOLD (None)."""
        raise NotImplementedError


# ------------------------------------------------------------------ used by the engine


def check_decision(value: Any, where: str) -> Decision | None:
    """`value` if it is what `on_bar` may return (None or a valid Decision), else a
    StrategyError naming what is wrong: "<where> returned …"."""
    if value is None:
        return None
    if not isinstance(value, Decision):
        raise StrategyError(f"{where} returned {value!r:.60} ({type(value).__name__}); "
                            "expected a Decision or None")
    problem = _problem(value)
    if problem:
        raise StrategyError(f"{where} returned a Decision whose {problem}")
    return value


def decision_extras(decision: Decision) -> dict[str, float]:
    """The numbers a decision sets beyond side and rule, by field (for the order's lineage)."""
    if decision.size is None and decision.stop_loss_pct is None and \
            decision.take_profit_pct is None:
        return {}
    return {f: v for f in LIMITS if (v := getattr(decision, f)) is not None}


def check_readings(value: Any, where: str) -> dict[str, float]:
    """A strategy's `indicators` as a plain dict of finite numbers by name, else a
    StrategyError."""
    if type(value) is dict:  # the usual case, checked fast: finite floats by name
        for key, number in value.items():
            if type(key) is not str or type(number) is not float or number - number != 0.0:
                break
        else:
            return dict(value)
    if not isinstance(value, Mapping):
        raise StrategyError(f"{where}: indicators must be a dict of numbers by name "
                            f"(got {type(value).__name__})")
    for key, number in value.items():
        if not isinstance(key, str) or _number(number) is None:
            raise StrategyError(f"{where}: indicators must be finite numbers by name "
                                f"(got {key!r:.40}: {number!r:.40})")
    return dict(value)


def check_warmup(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StrategyError(f"{where}: warm-up must be a whole number of bars >= 0 "
                            f"(got {value!r:.40})")
    return value


def source_file(cls: type) -> str | None:
    """The file a strategy class is defined in (error messages name its lines)."""
    return getattr(sys.modules.get(cls.__module__), "__file__", None)


def _class_problem(cls: Any) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, Strategy)) or cls is Strategy:
        return "must be a subclass of Strategy"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return (f"name must be lower-case letters, digits and _, starting with a letter "
                f"(got {name!r:.40})")
    if not isinstance(getattr(cls, "title", None), str) or not cls.title.strip():
        return "title must be a line of text"
    if not isinstance(cls.params, dict):
        return "params must be a dict of Param by name (use declare(...))"
    for key, p in cls.params.items():
        if not isinstance(p, Param) or p.name != key or p.kind not in KINDS:
            return (f"params[{key!r}] must be a Param named {key!r} of kind int, float, bool "
                    "or str")
        try:
            p.parse(p.default, "param ")
        except BadInput as e:
            return f"the default of {e}"
    if cls.warmup_bars is not None and (isinstance(cls.warmup_bars, bool) or not isinstance(
            cls.warmup_bars, int) or cls.warmup_bars < 0):
        return f"warmup_bars must be None or a whole number >= 0 (got {cls.warmup_bars!r})"
    if cls.on_bar is Strategy.on_bar:
        return "must implement on_bar(self, ctx)"
    return _chart_problem(cls)


def _chart_problem(cls: type[Strategy]) -> str | None:
    if not isinstance(cls.chart, tuple) or not all(
            isinstance(item, SmaLine | RsiChart) for item in cls.chart):
        return "chart must be a tuple of SmaLine(...) and RsiChart(...)"
    for item in cls.chart:
        bars = item[0]  # the parameter holding the bars the line averages over
        if bars not in cls.params or cls.params[bars].kind is not int:
            return f"chart: {item!r} names {bars!r}, which is not an int parameter"
    return None


def check_strategy_class(cls: Any) -> type[Strategy]:
    """`cls` if it implements this API as declared, else a StrategyError naming the fault."""
    problem = _class_problem(cls)
    if problem:
        label = getattr(cls, "__name__", repr(cls))
        file = source_file(cls) if isinstance(cls, type) else None
        raise StrategyError(f"strategy {label}{f' ({file})' if file else ''}: {problem}")
    return cls
