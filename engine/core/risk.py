"""The risk layer: turn a strategy's signal (or a stop) into an order; long-only, one entry."""

from engine.core.bars import BarData
from engine.core.portfolio import Holding
from engine.core.settings import TradeSettings
from engine.core.strategies import Signal


def decide(s: TradeSettings, bar: BarData, signal: Signal | None, holding: Holding | None, *,
           equity: float, cash: float) -> tuple[str, float, str] | None:
    """Return (side, qty, rule) for an order on the next bar, or None.

    Held: stop-loss and take-profit (on this bar's close against the entry cost) come before a
    sell signal. Flat: a buy signal spends `position_size` of equity split across the
    session's symbols, at most the cash there is, sized at this bar's close.
    """
    if holding is not None and holding.qty > 0:
        if s.stop_loss_pct and bar.close <= holding.avg_price * (1 - s.stop_loss_pct / 100):
            return "sell", holding.qty, f"stop-loss {s.stop_loss_pct:g}% below entry"
        if s.take_profit_pct and bar.close >= holding.avg_price * (1 + s.take_profit_pct / 100):
            return "sell", holding.qty, f"take-profit {s.take_profit_pct:g}% above entry"
        if signal is not None and signal.side == "sell":
            return "sell", holding.qty, signal.rule
        return None
    if signal is not None and signal.side == "buy":
        budget = min(equity * s.position_size / len(s.symbols), cash)
        if budget > 0:
            return "buy", budget / bar.close, signal.rule
    return None
