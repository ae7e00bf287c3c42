"""MACD crossover: buy when the MACD (fast EMA − slow EMA of the close) crosses above its
signal line, sell when it crosses below. One file, written for PAPERDESK_HOME/strategies/."""

from engine.core.strategy_api import (
    BUY,
    HOLD,
    SELL,
    BadInput,
    BarContext,
    Decision,
    Param,
    Strategy,
    declare,
)


class MacdCrossover(Strategy):
    name = "macd_crossover"
    title = "MACD crossover"
    params = declare(
        Param("fast", int, 12, "span of the fast EMA of the close", 2, 100),
        Param("slow", int, 26, "span of the slow EMA of the close", 3, 200),
        Param("signal", int, 9, "span of the signal line, an EMA of the MACD", 2, 100),
    )

    @classmethod
    def validate(cls, given):
        parsed = super().validate(given)
        if parsed["fast"] >= parsed["slow"]:
            raise BadInput("param fast must be below param slow")
        return parsed

    @classmethod
    def warmup(cls, params):
        return 3 * params["slow"] + params["signal"]  # an EMA forgets its first value in ~3 spans

    def __init__(self, params):
        super().__init__(params)
        self.alpha = {k: 2 / (params[k] + 1) for k in ("fast", "slow", "signal")}
        self.ema: dict[str, float] = {}  # fast, slow, signal; each starts at its first input
        self.prev_hist: float | None = None

    def _ema(self, key: str, value: float) -> float:
        last = self.ema.get(key, value)
        self.ema[key] = last + self.alpha[key] * (value - last)
        return self.ema[key]

    def on_bar(self, ctx: BarContext) -> Decision | None:
        close = ctx.bar.close
        macd = self._ema("fast", close) - self._ema("slow", close)
        hist = macd - self._ema("signal", macd)  # MACD minus its signal line
        prev, self.prev_hist = self.prev_hist, hist
        self.readings = {"macd": round(macd, 6), "histogram": round(hist, 6)}
        if prev is None:
            return HOLD
        if prev <= 0 < hist and ctx.position_qty == 0:
            return Decision(BUY, "MACD crossed above its signal line")
        if prev >= 0 > hist and ctx.position_qty > 0:
            return Decision(SELL, "MACD crossed below its signal line")
        return HOLD
