"""Bollinger-band mean reversion: buy a close below the lower band, sell when the close is back
above the middle band (the moving average). One file, written for PAPERDESK_HOME/strategies/."""

import math

from engine.core.strategy_api import (
    BUY,
    HOLD,
    SELL,
    BarContext,
    Decision,
    Param,
    SmaLine,
    Strategy,
    declare,
)


class BollingerReversion(Strategy):
    name = "bollinger_reversion"
    title = "Bollinger-band mean reversion"
    chart = (SmaLine("window"),)  # the middle band
    params = declare(
        Param("window", int, 20, "bars in the moving average and its standard deviation", 5, 400),
        Param("width", float, 2.0, "lower band: this many standard deviations below", 0.5, 5),
    )

    def on_bar(self, ctx: BarContext) -> Decision | None:
        n = self.p["window"]
        if len(ctx.history) < n:
            return HOLD
        closes = [bar.close for bar in ctx.history[-n:]]  # the last n closes, this one included
        middle = math.fsum(closes) / n
        sd = math.sqrt(math.fsum((c - middle) ** 2 for c in closes) / (n - 1))  # sample sd
        lower = middle - self.p["width"] * sd
        self.readings = {"middle": round(middle, 6), "lower": round(lower, 6)}
        if ctx.position_qty == 0 and ctx.bar.close < lower:
            return Decision(BUY, f"close below the lower band ({self.p['width']:g} sd)")
        if ctx.position_qty > 0 and ctx.bar.close > middle:
            return Decision(SELL, "close back above the middle band")
        return HOLD
