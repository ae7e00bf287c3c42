"""Donchian channel breakout: buy a close above the highest high of the previous `entry` bars,
sell a close below the lowest low of the previous `exit` bars. One file, written for
PAPERDESK_HOME/strategies/."""

from engine.core.strategy_api import BUY, HOLD, SELL, BarContext, Decision, Param, Strategy, declare


class DonchianBreakout(Strategy):
    name = "donchian_breakout"
    title = "Donchian channel breakout"
    params = declare(
        Param("entry", int, 20, "buy above the highest high of this many bars before", 2, 400),
        Param("exit", int, 10, "sell below the lowest low of this many bars before", 2, 400),
    )

    def on_bar(self, ctx: BarContext) -> Decision | None:
        entry, exit_ = self.p["entry"], self.p["exit"]
        if len(ctx.history) <= max(entry, exit_):
            return HOLD
        close = ctx.bar.close
        if ctx.position_qty == 0:
            high = max(bar.high for bar in ctx.history[-entry - 1:-1])  # this bar left out
            if close > high:
                self.readings = {"channel_high": high}
                return Decision(BUY, f"close above the {entry}-bar high")
        else:
            low = min(bar.low for bar in ctx.history[-exit_ - 1:-1])
            if close < low:
                self.readings = {"channel_low": low}
                return Decision(SELL, f"close below the {exit_}-bar low")
        return HOLD
