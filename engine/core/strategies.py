"""The built-in strategies, written against the public strategy API (engine.core.strategy_api)
like a user's own, and the registry of the strategies a session may name."""

from typing import Any

from engine.core.bars import BarData
from engine.core.indicators import RSI, SMA, squash
from engine.core.strategy_api import (
    BUY,
    SELL,
    BadInput,
    BarContext,
    Decision,
    Param,
    RsiChart,
    Sentiment,
    SmaLine,
    Strategy,
    StrategyError,
    check_strategy_class,
    declare,
)


def _fast_below_slow(parsed: dict[str, Any]) -> dict[str, Any]:
    """The moving-average strategies' one cross-parameter rule."""
    if parsed["fast"] >= parsed["slow"]:
        raise BadInput(
            f"param fast must be below param slow (got {parsed['fast']} ≥ {parsed['slow']})")
    return parsed


BUY_CROSS = Decision(BUY, "fast MA crossed above slow MA")
SELL_CROSS = Decision(SELL, "fast MA crossed below slow MA")


class MACrossover(Strategy):
    name = "ma_crossover"
    title = "Moving-average crossover"
    chart = (SmaLine("fast"), SmaLine("slow"))
    params = declare(
        Param("fast", int, 10, "bars in the fast moving average", 2, 200),
        Param("slow", int, 30, "bars in the slow moving average", 3, 500),
    )

    @classmethod
    def validate(cls, given):
        return _fast_below_slow(super().validate(given))

    def __init__(self, params):
        super().__init__(params)
        self.fast, self.slow = SMA(params["fast"]), SMA(params["slow"])
        self.prev_diff: float | None = None
        self.last_fast = self.last_slow = 0.0

    @property
    def indicators(self) -> dict[str, float]:
        return {"fast_ma": round(self.last_fast, 6), "slow_ma": round(self.last_slow, 6)}

    def on_bar(self, ctx: BarContext) -> Decision | None:
        close = ctx.bar.close
        fast, slow = self.fast.update(close), self.slow.update(close)
        if fast is None or slow is None:
            return None
        diff, prev = fast - slow, self.prev_diff
        self.prev_diff = diff
        self.last_fast, self.last_slow = fast, slow
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
    chart = (RsiChart("period"),)
    params = declare(
        Param("period", int, 14, "bars in the RSI", 2, 200),
        Param("oversold", float, 30.0, "buy when RSI falls below this", 1, 50),
        Param("overbought", float, 70.0, "sell when RSI rises above this", 50, 99),
    )

    def __init__(self, params):
        super().__init__(params)
        self.rsi = RSI(params["period"])
        self.value = 0.0
        self.buy = Decision(BUY, f"RSI below {params['oversold']:g}")
        self.sell = Decision(SELL, f"RSI above {params['overbought']:g}")

    @property
    def indicators(self) -> dict[str, float]:
        return {"rsi": round(self.value, 4)}

    def on_bar(self, ctx: BarContext) -> Decision | None:
        value = self.rsi.update(ctx.bar.close)
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
    chart = (SmaLine("fast"), SmaLine("slow"))
    uses_sentiment = True
    params = declare(
        Param("fast", int, 10, "bars in the fast trend average", 2, 200),
        Param("slow", int, 40, "bars in the slow trend average", 3, 500),
        Param("volume_window", int, 20, "bars in the volume average", 2, 500),
        Param("w_trend", float, 0.5, "weight of the trend score", 0, 1),
        Param("w_sentiment", float, 0.3, "weight of the sentiment score", 0, 1),
        Param("w_volume", float, 0.2, "weight of the volume score", 0, 1),
        Param("entry", float, 0.25, "buy when the blended score rises above this", -1, 1),
        Param("exit", float, -0.1, "sell when the blended score falls below this", -1, 1),
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
        self.buy = Decision(BUY, f"blended score above {params['entry']:g}")
        self.sell = Decision(SELL, f"blended score below {params['exit']:g}")

    def _scores(self, bar: BarData, mood: Sentiment | None) -> dict[str, float] | None:
        fast, slow = self.fast.update(bar.close), self.slow.update(bar.close)
        avg_volume = self.volume.update(bar.volume)
        prev, self.prev_close = self.prev_close, bar.close
        if fast is None or slow is None or avg_volume is None or prev is None:
            return None
        direction = 1.0 if bar.close >= prev else -1.0
        volume_ratio = bar.volume / avg_volume - 1.0 if avg_volume > 0 else 0.0
        return {
            "trend": squash(20.0 * (fast / slow - 1.0)),
            "sentiment": (mood.score if mood is not None else None) or 0.0,
            "volume": direction * squash(volume_ratio),
        }

    def on_bar(self, ctx: BarContext) -> Decision | None:
        scores = self._scores(ctx.bar, ctx.sentiment)
        if scores is None:
            return None
        weights = {k: self.p[f"w_{k}"] for k in scores}
        blended = sum(weights[k] * scores[k] for k in scores) / sum(weights.values())
        self.readings = {k: round(v, 4) for k, v in scores.items()}
        self.readings["blend"] = round(blended, 4)
        if blended > self.p["entry"]:
            return self.buy
        if blended < self.p["exit"]:
            return self.sell
        return None


STRATEGIES: dict[str, type[Strategy]] = {}  # every strategy a session may name, by name


def register(cls: type[Strategy], *, replace: bool = False) -> type[Strategy]:
    """Add a strategy class to STRATEGIES (checked against the API); `replace` lets it take
    the place of a strategy of the same name."""
    check_strategy_class(cls)
    known = STRATEGIES.get(cls.name)
    if known is not None and known is not cls and not replace:
        raise StrategyError(f"strategy {cls.name!r} already exists ({known.__module__}."
                            f"{known.__qualname__})")
    STRATEGIES[cls.name] = cls
    return cls


for _builtin in (MACrossover, RSIReversion, Blend):
    register(_builtin)


def strategy_class(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise BadInput(
            f"strategy must be one of {', '.join(STRATEGIES)} (got {name!r})"
        ) from None
