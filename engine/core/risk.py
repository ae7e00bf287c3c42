"""The risk layer: turn a strategy's decision (or a stop) into an order; long-only, one entry."""

from typing import NamedTuple

from engine.core.bars import BarData
from engine.core.portfolio import DUST, Holding
from engine.core.settings import TradeSettings
from engine.core.strategy_api import BUY, MAX_SIZE, SELL, Decision


class Exits(NamedTuple):
    """A position's own stop-loss and take-profit (% from entry), set by the decision that
    opened it; None = the session's, 0 = off."""

    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None


def entry_fraction(s: TradeSettings, decision: Decision) -> float:
    """The fraction of equity a buy spends (before the split across symbols): the decision's
    size, kept above dust and at most all of it, else the session's position size."""
    if decision.size is None:
        return s.position_size
    return min(max(decision.size, DUST), MAX_SIZE)


def exit_rule(s: TradeSettings, bar: BarData, holding: Holding,
              exits: Exits | None) -> str | None:
    """Why the position must be sold at this bar's close (stop-loss first), or None."""
    stop, take = s.stop_loss_pct, s.take_profit_pct
    if exits is not None:
        stop = stop if exits.stop_loss_pct is None else exits.stop_loss_pct
        take = take if exits.take_profit_pct is None else exits.take_profit_pct
    if stop and bar.close <= holding.avg_price * (1 - stop / 100):
        return f"stop-loss {stop:g}% below entry"
    if take and bar.close >= holding.avg_price * (1 + take / 100):
        return f"take-profit {take:g}% above entry"
    return None


def decide(s: TradeSettings, bar: BarData, decision: Decision | None, holding: Holding | None,
           *, equity: float, cash: float, exits: Exits | None = None
           ) -> tuple[str, float, str] | None:
    """Return (side, qty, rule) for an order on the next bar, or None.

    Held: stop-loss and take-profit (on this bar's close against the entry cost; the
    position's own `exits`, else the session's) come before a sell decision. Flat: a buy
    decision spends `entry_fraction` of equity split across the session's symbols, at most the
    cash there is, sized at this bar's close.
    """
    if holding is not None and holding.qty > 0:
        if exits is not None or s.stop_loss_pct or s.take_profit_pct:
            rule = exit_rule(s, bar, holding, exits)
            if rule is not None:
                return SELL, holding.qty, rule
        if decision is not None and decision.side == SELL:
            return SELL, holding.qty, decision.rule
        return None
    if decision is not None and decision.side == BUY:
        budget = min(equity * entry_fraction(s, decision) / len(s.symbols), cash)
        if budget > 0:
            return BUY, budget / bar.close, decision.rule
    return None
