"""The public strategy API: the warm-up rule, what a strategy sees each bar, the checks on what
it returns, and a strategy's errors as one line naming its file and line."""

import math
import statistics
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from engine.core.bars import BarData
from engine.core.news import NEWS, NO_SENTIMENT, NewsSeries
from engine.core.settings import TradeSettings
from engine.core.strategies import STRATEGIES, Blend, MACrossover, register, strategy_class
from engine.core.strategy_api import (
    BUY,
    HISTORY_BARS,
    SELL,
    BarContext,
    Decision,
    History,
    Param,
    Sentiment,
    SmaLine,
    Strategy,
    StrategyError,
    check_decision,
    check_strategy_class,
    declare,
)
from engine.core.trader import Outbox, Trader
from engine.errors import BadInput, PaperDeskError
from tests.core.conftest import hourly

HERE = Path(__file__).name


def line_of(marker: str) -> int:
    """The line of this file that carries `marker` in a comment."""
    lines = Path(__file__).read_text().splitlines()
    (number,) = [i for i, text in enumerate(lines, 1) if text.rstrip().endswith(f"# {marker}")]
    return number


def settings_for(cls: type[Strategy], symbols=("BTC-USD",), **risk) -> TradeSettings:
    return TradeSettings(cls.name, cls.validate({}), symbols, "1h", 1000.0, fee_bps=0,
                         slippage_bps=0, **risk)


def run(trader: Trader, bars: list[BarData], symbol: str = "BTC-USD", **step) -> Outbox:
    out = Outbox()
    for bar in bars:
        trader.step(bar.ts, [(symbol, bar)], out, **step)
    return out


# ------------------------------------------------------------------ warm-up


class FloatsOnly(Strategy):
    """Buys above `level`, sells below it: parameters all floats, no declared warm-up."""

    name = "floats_only"
    title = "Floats only"
    params = declare(Param("level", float, 100.0, "the close to cross", 0, 1e9),
                     Param("on", bool, True, "trade at all"))

    def on_bar(self, ctx):
        self.seen = len(ctx.history)
        if ctx.bar.close > self.p["level"]:
            return Decision(BUY, "above the level")
        return Decision(SELL, "below the level")


def test_the_warm_up_is_declared_or_the_largest_int_parameter_plus_2_or_2():
    assert FloatsOnly.warmup(FloatsOnly.validate({})) == 2  # floats (and bools) only: 2
    assert MACrossover.warmup(MACrossover.validate({"fast": "7", "slow": "40"})) == 42
    assert Blend.warmup(Blend.validate({"volume_window": "90"})) == 92

    class Declared(FloatsOnly):
        name = "declared"
        warmup_bars = 7

    assert Declared.warmup({"level": 1.0, "on": True}) == 7
    assert Strategy.warmup({}) == 2


def test_a_float_only_strategy_primes_and_trades(registered):
    registered(FloatsOnly)
    trader = Trader(settings_for(FloatsOnly))
    bars = hourly([90, 95, 99, 101, 104, 98, 97, 103])
    times = [b.ts for b in bars]
    trader.prime({"BTC-USD": (times, bars)}, times[2])
    assert trader.warmup_bars == 2
    assert trader.runner.slots["BTC-USD"].strategy.seen == 2  # the two bars before the start
    out = run(trader, bars[2:])
    assert [(o.decision_ts, o.side) for o in out.orders] == [
        (times[3], "buy"), (times[5], "sell"), (times[7], "buy")]
    assert [f.bar_ts for f in out.fills] == [times[4], times[6]]


# ------------------------------------------------------------------ what on_bar sees


class Recorder(Strategy):
    """Keeps what it saw each bar; buys on its 3rd bar, sells on its 6th."""

    name = "recorder"
    title = "Recorder"
    warmup_bars = 0
    uses_sentiment = True

    def __init__(self, params):
        super().__init__(params)
        self.seen: list[tuple] = []

    def on_bar(self, ctx):
        self.seen.append((ctx.symbol, ctx.bar, len(ctx.history), ctx.history[-1], ctx.sentiment,
                          ctx.position_qty, ctx.cash, id(ctx.history)))
        n = len(self.seen)
        return Decision(BUY, "third bar") if n == 3 else (
            Decision(SELL, "sixth bar") if n == 6 else None)


def test_the_context_holds_the_bar_its_history_position_cash_and_sentiment(registered):
    registered(Recorder)
    trader = Trader(settings_for(Recorder, position_size=0.5))
    bars = hourly([100.0] * 3 + [110.0] * (HISTORY_BARS + 7))
    run(trader, bars)
    seen = trader.runner.slots["BTC-USD"].strategy.seen
    assert [s[1] for s in seen] == bars  # every bar, in order
    assert all(s[0] == "BTC-USD" and s[3] is s[1] for s in seen)  # history ends with the bar
    assert [s[2] for s in seen] == [min(i + 1, HISTORY_BARS) for i in range(len(bars))]
    assert len({s[7] for s in seen}) == 1  # one view, moved on: no copy of the bars per bar
    # bought at bar 3's close (500 / 100 = 5 units), filled at bar 4's open (110), sold on 7
    assert [(s[5], s[6]) for s in seen[2:8]] == [
        (0.0, 1000.0), (5.0, 450.0), (5.0, 450.0), (5.0, 450.0), (0.0, 1000.0), (0.0, 1000.0)]
    moods = [s[4] for s in seen]
    assert moods[0] is None  # the price mood needs two returns
    assert all(isinstance(m, Sentiment) and m.source == "price-mood" and -1 <= m.score <= 1
               for m in moods[3:])


def test_news_reaches_the_strategy_and_a_symbol_without_news_sees_none(registered):
    registered(Recorder)
    settings = settings_for(Recorder, symbols=("BTC-USD", "ETH-USD")).changed(
        {"sentiment": NEWS})
    bars = hourly([100.0, 101.0])
    news = {"BTC-USD": NewsSeries([bars[0].ts], [0.6])}  # known during the first bar
    trader = Trader(settings, news=news)
    out = Outbox()
    for bar in bars:
        trader.step(bar.ts, [("BTC-USD", bar), ("ETH-USD", bar)], out)
    slots = trader.runner.slots
    assert [s[4] for s in slots["BTC-USD"].strategy.seen] == [Sentiment(0.6, "news")] * 2
    assert [s[4] for s in slots["ETH-USD"].strategy.seen] == [None, None]


def test_a_session_without_sentiment_gives_even_the_blend_none():
    settings = TradeSettings("blend", Blend.validate({}), ("BTC-USD",), "1h", 1000.0,
                             sentiment=NO_SENTIMENT)
    trader = Trader(settings)
    assert not trader.runner.reads_sentiment
    assert trader.runner.sentiment("BTC-USD", hourly([1.0])[0]) == (None, None, None)


def test_a_strategy_that_reads_no_sentiment_gets_none():
    trader = Trader(TradeSettings("ma_crossover", {"fast": 2, "slow": 3}, ("BTC-USD",), "1h",
                                  1000.0))
    assert trader.runner.moods is None
    assert trader.runner.sentiment("BTC-USD", hourly([1.0])[0]) == (None, None, None)


@pytest.mark.parametrize("index", [
    -1, 0, 5, -30, slice(None), slice(-5, None), slice(3, 9), slice(-9, -2), slice(20, 5),
    slice(None, None, 2), slice(-7, None, -1), slice(40, 50), slice(-100, 3)])
def test_history_indexes_and_slices_like_a_list(index):
    bars = hourly([float(i) for i in range(30)])
    view, plain = History(deque(bars, maxlen=HISTORY_BARS)), list(bars)
    want = plain[index]
    assert view[index] == (tuple(want) if isinstance(index, slice) else want)
    assert list(view) == plain
    assert list(reversed(view)) == plain[::-1]
    assert len(view) == 30


def test_the_context_and_its_history_are_read_only():
    view = History(deque(hourly([1.0, 2.0])))
    with pytest.raises(TypeError):
        view[0] = None
    assert not hasattr(view, "append")
    with pytest.raises(AttributeError):
        view.extra = 1
    ctx = BarContext("BTC-USD", view[-1], view, None, 0.0, 10.0)
    with pytest.raises(AttributeError):
        ctx.cash = 1.0


# ------------------------------------------------------------------ what on_bar may return


GARBAGE = ["buy", ("buy", "x"), {"side": "buy", "rule": "x"}, 1, True, 0.5, Sentiment(1, "x")]


@pytest.mark.parametrize("value", GARBAGE, ids=[type(v).__name__ for v in GARBAGE])
def test_check_decision_refuses_anything_but_a_decision_or_none(value):
    with pytest.raises(StrategyError, match=r"^strategy 'x' returned .*expected a Decision"):
        check_decision(value, "strategy 'x'")


def test_check_decision_passes_none_and_a_valid_decision():
    decision = Decision(BUY, "why", size=0.5, stop_loss_pct=2, take_profit_pct=0)
    assert check_decision(decision, "x") is decision
    assert check_decision(None, "x") is None


@pytest.mark.parametrize(("field", "value", "words"), [
    ("side", "hold", "side must be 'buy' or 'sell'"),
    ("size", math.nan, "size must be a finite number"),
    ("size", 2.0, "size must be a finite number above 0"),
])
def test_check_decision_names_the_field_of_a_tampered_decision(field, value, words):
    decision = Decision(BUY, "why")
    object.__setattr__(decision, field, value)
    with pytest.raises(StrategyError, match=f"whose {words}"):
        check_decision(decision, "strategy 'x'")


@pytest.mark.parametrize(("fields", "words"), [
    ({"side": "hold"}, "side must be 'buy' or 'sell'"),
    ({"side": None}, "side must be"),
    ({"rule": ""}, "rule must be one line"),
    ({"rule": "two\nlines"}, "rule must be one line"),
    ({"rule": 3}, "rule must be one line"),
    ({"size": 0}, "size must be a finite number above 0"),
    ({"size": 1.01}, "at most 1"),
    ({"size": math.nan}, "size must be a finite number"),
    ({"size": True}, "size must be a finite number"),
    ({"size": "0.5"}, "size must be a finite number"),
    ({"stop_loss_pct": 100}, "stop_loss_pct must be a finite number at least 0 and below 100"),
    ({"stop_loss_pct": -1}, "stop_loss_pct"),
    ({"take_profit_pct": math.inf}, "take_profit_pct must be a finite number"),
    ({"take_profit_pct": -0.5}, "take_profit_pct must be a finite number at least 0"),
    ({"side": SELL, "size": 0.5}, "size applies to a buy only"),
    ({"side": SELL, "stop_loss_pct": 2}, "stop_loss_pct applies to a buy only"),
])
def test_a_decision_with_a_bad_field_is_refused_when_made(fields, words):
    with pytest.raises(ValueError, match=words):
        Decision(**{"side": BUY, "rule": "why", **fields})


def test_a_decisions_numbers_become_plain_floats():
    decision = Decision(BUY, "why", size=np.float64(0.5), stop_loss_pct=2, take_profit_pct=0)
    assert (decision.size, decision.stop_loss_pct, decision.take_profit_pct) == (0.5, 2.0, 0.0)
    assert all(type(v) is float for v in (decision.size, decision.stop_loss_pct))
    with pytest.raises(AttributeError):
        decision.size = 1.0  # frozen


# ------------------------------------------------------------------ a strategy's errors


class Raises(Strategy):
    name = "raises"
    title = "Raises on its third bar"
    warmup_bars = 0

    def on_bar(self, ctx):
        if len(ctx.history) == 3:
            return ctx.bar.close / 0  # RAISES
        return None


class RaisesInALibrary(Raises):
    name = "raises_deep"

    def on_bar(self, ctx):
        return statistics.mean([]) if len(ctx.history) == 2 else None  # CALLS


class ReturnsGarbage(Raises):
    name = "garbage"

    def on_bar(self, ctx):  # ON_BAR
        return "buy" if len(ctx.history) == 2 else None


class BadInit(Raises):
    name = "bad_init"

    def __init__(self, params):
        super().__init__(params)
        self.window = params["window"]  # INIT


class BadReadings(Raises):
    name = "bad_readings"

    def on_bar(self, ctx):
        self.readings = {"z": math.nan}
        return Decision(BUY, "always")


def test_an_exception_in_on_bar_is_one_line_naming_the_strategys_file_and_line(registered):
    registered(Raises)
    bars = hourly([100.0, 101.0, 102.0, 103.0])
    with pytest.raises(StrategyError) as caught:
        run(Trader(settings_for(Raises)), bars)
    error = caught.value
    assert str(error) == (f"strategy 'raises' on BTC-USD, bar {bars[2].ts.isoformat()}: "
                          f"ZeroDivisionError: float division by zero at "
                          f"{HERE}:{line_of('RAISES')}")
    assert (Path(error.file).name, error.line) == (HERE, line_of("RAISES"))
    assert isinstance(error.__cause__, ZeroDivisionError)
    assert isinstance(error, PaperDeskError)
    assert not isinstance(error, BadInput)  # not a form field's fault: the strategy's


def test_an_exception_deep_in_a_library_names_the_strategys_own_line(registered):
    registered(RaisesInALibrary)
    with pytest.raises(StrategyError, match=rf"StatisticsError: .* at {HERE}:{line_of('CALLS')}$"):
        run(Trader(settings_for(RaisesInALibrary)), hourly([1.0, 2.0, 3.0]))


def test_priming_raises_the_same_error(registered):
    registered(Raises)
    trader = Trader(settings_for(Raises))
    bars = hourly([1.0, 2.0, 3.0, 4.0])
    times = [b.ts for b in bars]
    with pytest.raises(StrategyError, match=rf"ZeroDivisionError.* at {HERE}:"):
        trader.prime({"BTC-USD": (times, bars)}, times[0], upto=times[3])


def test_a_return_outside_the_api_names_what_and_the_on_bar_that_returned_it(registered):
    registered(ReturnsGarbage)
    bars = hourly([1.0, 2.0, 3.0])
    with pytest.raises(StrategyError) as caught:
        run(Trader(settings_for(ReturnsGarbage)), bars)
    assert str(caught.value) == (
        "strategy 'garbage' on BTC-USD returned 'buy' (str); expected a Decision or None "
        f"(bar {bars[1].ts.isoformat()}; on_bar at {HERE}:{line_of('ON_BAR')})")


def test_a_failing_constructor_fails_the_trader_with_its_line(registered):
    registered(BadInit)
    with pytest.raises(StrategyError, match=rf"on BTC-USD: KeyError: 'window' at "
                                            rf"{HERE}:{line_of('INIT')}"):
        Trader(settings_for(BadInit))


def test_readings_that_are_not_finite_numbers_stop_the_order(registered):
    registered(BadReadings)
    with pytest.raises(StrategyError, match="indicators must be finite numbers by name"):
        run(Trader(settings_for(BadReadings)), hourly([1.0, 2.0]))


def test_from_exception_without_a_frame_in_the_strategys_file_names_the_innermost_one():
    try:
        statistics.mean([])
    except statistics.StatisticsError as exc:
        error = StrategyError.from_exception(exc, "/nowhere/else.py", "s: ")
    assert str(error).startswith("s: StatisticsError: mean requires at least one data point at ")
    assert str(error).split(" at ")[-1].startswith("statistics.py:")
    bare = StrategyError.from_exception(ValueError("no traceback"), None)
    assert str(bare) == "ValueError: no traceback"
    assert bare.line is None


# ------------------------------------------------------------------ the registry


def test_the_built_ins_are_registered_through_the_same_contract():
    assert list(STRATEGIES)[:3] == ["ma_crossover", "rsi_reversion", "blend"]
    for cls in STRATEGIES.values():
        assert check_strategy_class(cls) is cls
    with pytest.raises(BadInput, match=r"^strategy must be one of ma_crossover, rsi_reversion, "
                                       r"blend.* \(got 'nope'\)$"):
        strategy_class("nope")


def _strategy(**attrs) -> type:
    body = {"name": "ok_name", "title": "A title", "on_bar": lambda self, ctx: None, **attrs}
    return type("Custom", (Strategy,), body)


@pytest.mark.parametrize(("cls", "words"), [
    (int, "must be a subclass of Strategy"),
    (Strategy, "must be a subclass of Strategy"),
    (_strategy(name="Bad Name"), "name must be lower-case letters"),
    (_strategy(title=""), "title must be a line of text"),
    (_strategy(params={"n": Param("m", int, 1, "x")}), r"params\['n'\] must be a Param named"),
    (_strategy(params=declare(Param("n", int, 500, "x", 1, 100))),
     "the default of param n must be at most 100"),
    (_strategy(params=declare(Param("n", list, [], "x"))), "of kind int, float, bool or str"),
    (_strategy(warmup_bars=-1), "warmup_bars must be None or a whole number"),
    (_strategy(on_bar=Strategy.on_bar), "must implement on_bar"),
    (_strategy(chart=["fast"]), r"chart must be a tuple of SmaLine\(...\) and RsiChart"),
    (_strategy(chart=(SmaLine("fast"),)), "chart: SmaLine.*'fast', which is not an int param"),
])
def test_register_refuses_a_class_outside_the_contract(cls, words):
    with pytest.raises(StrategyError, match=words):
        register(cls)
    assert "ok_name" not in STRATEGIES


def test_register_refuses_a_taken_name_unless_replacing(registered):
    copy = type("Copy", (MACrossover,), {})
    with pytest.raises(StrategyError, match="'ma_crossover' already exists"):
        register(copy)
    assert registered(copy) is copy
    assert strategy_class("ma_crossover") is copy

