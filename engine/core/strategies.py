"""Trading strategies: each turns a stream of bars (and sentiment) into entry/exit signals."""

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.bars import BarData
from engine.core.indicators import RSI, SMA, squash
from engine.errors import BadInput
from engine.params import Param, parse_params


@dataclass(frozen=True, slots=True)
class Signal:
    side: str  # "buy" (enter long) or "sell" (exit)
    rule: str


class Strategy:
    """Base: subclasses declare `params` and implement `on_bar`."""

    name: ClassVar[str]
    title: ClassVar[str]
    params: ClassVar[dict[str, Param]]
    uses_sentiment: ClassVar[bool] = False  # True: on_bar reads the sentiment score

    def __init__(self, params: dict[str, Any]):
        self.p = params
        self.readings: dict[str, float] = {}  # set by strategies that build it anyway

    @property
    def indicators(self) -> dict[str, float]:
        """The indicator values on the last bar, rounded for the order's lineage (built only
        when an order needs them, not on every bar)."""
        return dict(self.readings)

    @classmethod
    def validate(cls, given: dict[str, Any]) -> dict[str, Any]:
        return parse_params(cls.params, given, where="param ")

    @classmethod
    def warmup(cls, params: dict[str, Any]) -> int:
        """Bars of history the indicators need before the first signal."""
        return max(v for k, v in params.items() if cls.params[k].kind is int) + 2

    def on_bar(self, bar: BarData, sentiment: float | None) -> Signal | None:
        raise NotImplementedError


def _p(name, kind, default, help, low=None, high=None) -> tuple[str, Param]:  # noqa: A002
    return name, Param(name, kind, default, help, low, high)


def _fast_below_slow(parsed: dict[str, Any]) -> dict[str, Any]:
    """The moving-average strategies' one cross-parameter rule."""
    if parsed["fast"] >= parsed["slow"]:
        raise BadInput(
            f"param fast must be below param slow (got {parsed['fast']} ≥ {parsed['slow']})")
    return parsed


BUY_CROSS = Signal("buy", "fast MA crossed above slow MA")
SELL_CROSS = Signal("sell", "fast MA crossed below slow MA")


class MACrossover(Strategy):
    name = "ma_crossover"
    title = "Moving-average crossover"
    params = dict(
        [
            _p("fast", int, 10, "bars in the fast moving average", 2, 200),
            _p("slow", int, 30, "bars in the slow moving average", 3, 500),
        ]
    )

    @classmethod
    def validate(cls, given):
        return _fast_below_slow(super().validate(given))

    def __init__(self, params):
        super().__init__(params)
        self.fast, self.slow = SMA(params["fast"]), SMA(params["slow"])
        self.prev_diff: float | None = None
        self.last = (0.0, 0.0)

    @property
    def indicators(self) -> dict[str, float]:
        return {"fast_ma": round(self.last[0], 6), "slow_ma": round(self.last[1], 6)}

    def on_bar(self, bar, sentiment):
        fast, slow = self.fast.update(bar.close), self.slow.update(bar.close)
        if fast is None or slow is None:
            return None
        diff, prev = fast - slow, self.prev_diff
        self.prev_diff = diff
        self.last = (fast, slow)
        if prev is None:
            return None
        if prev <= 0 < diff:
            return BUY_CROSS
        if prev >= 0 > diff:
            return SELL_CROSS
        return None


class RSIReversion(Strategy):
    name = "rsi_reversion"
    title = "RSI mean reversion"
    params = dict(
        [
            _p("period", int, 14, "bars in the RSI", 2, 200),
            _p("oversold", float, 30.0, "buy when RSI falls below this", 1, 50),
            _p("overbought", float, 70.0, "sell when RSI rises above this", 50, 99),
        ]
    )

    def __init__(self, params):
        super().__init__(params)
        self.rsi = RSI(params["period"])
        self.value = 0.0
        self.buy = Signal("buy", f"RSI below {params['oversold']:g}")
        self.sell = Signal("sell", f"RSI above {params['overbought']:g}")

    @property
    def indicators(self) -> dict[str, float]:
        return {"rsi": round(self.value, 4)}

    def on_bar(self, bar, sentiment):
        value = self.rsi.update(bar.close)
        if value is None:
            return None
        self.value = value
        if value < self.p["oversold"]:
            return self.buy
        if value > self.p["overbought"]:
            return self.sell
        return None


class Blend(Strategy):
    name = "blend"
    title = "Trend + sentiment + volume blend"
    uses_sentiment = True
    params = dict(
        [
            _p("fast", int, 10, "bars in the fast trend average", 2, 200),
            _p("slow", int, 40, "bars in the slow trend average", 3, 500),
            _p("volume_window", int, 20, "bars in the volume average", 2, 500),
            _p("w_trend", float, 0.5, "weight of the trend score", 0, 1),
            _p("w_sentiment", float, 0.3, "weight of the sentiment score", 0, 1),
            _p("w_volume", float, 0.2, "weight of the volume score", 0, 1),
            _p("entry", float, 0.25, "buy when the blended score rises above this", -1, 1),
            _p("exit", float, -0.1, "sell when the blended score falls below this", -1, 1),
        ]
    )

    @classmethod
    def validate(cls, given):
        parsed = _fast_below_slow(super().validate(given))
        if parsed["w_trend"] + parsed["w_sentiment"] + parsed["w_volume"] <= 0:
            raise BadInput("param w_trend, w_sentiment and w_volume must not all be 0")
        if parsed["exit"] >= parsed["entry"]:
            raise BadInput("param exit must be below param entry")
        return parsed

    def __init__(self, params):
        super().__init__(params)
        self.fast, self.slow = SMA(params["fast"]), SMA(params["slow"])
        self.volume = SMA(params["volume_window"])
        self.prev_close: float | None = None

    def _scores(self, bar: BarData, sentiment: float | None) -> dict[str, float] | None:
        fast, slow = self.fast.update(bar.close), self.slow.update(bar.close)
        avg_volume = self.volume.update(bar.volume)
        prev, self.prev_close = self.prev_close, bar.close
        if fast is None or slow is None or avg_volume is None or prev is None:
            return None
        direction = 1.0 if bar.close >= prev else -1.0
        volume_ratio = bar.volume / avg_volume - 1.0 if avg_volume > 0 else 0.0
        return {
            "trend": squash(20.0 * (fast / slow - 1.0)),
            "sentiment": sentiment or 0.0,
            "volume": direction * squash(volume_ratio),
        }

    def on_bar(self, bar, sentiment):
        scores = self._scores(bar, sentiment)
        if scores is None:
            return None
        weights = {k: self.p[f"w_{k}"] for k in scores}
        blended = sum(weights[k] * scores[k] for k in scores) / sum(weights.values())
        self.readings = {k: round(v, 4) for k, v in scores.items()}
        self.readings["blend"] = round(blended, 4)
        if blended > self.p["entry"]:
            return Signal("buy", f"blended score above {self.p['entry']:g}")
        if blended < self.p["exit"]:
            return Signal("sell", f"blended score below {self.p['exit']:g}")
        return None


STRATEGIES: dict[str, type[Strategy]] = {s.name: s for s in (MACrossover, RSIReversion, Blend)}


def strategy_class(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise BadInput(
            f"strategy must be one of {', '.join(STRATEGIES)} (got {name!r})"
        ) from None
