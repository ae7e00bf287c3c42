"""When and at what price an order fills on a bar. Pure functions, no look-ahead."""

from dataclasses import dataclass
from datetime import datetime

from engine.core.bars import BarData

BUY, SELL = "buy", "sell"


@dataclass(frozen=True)
class OrderTerms:
    side: str
    order_type: str
    decision_bar_ts: datetime
    limit_price: float | None = None
    stop_price: float | None = None


def slipped(price: float, side: str, slippage_bps: float) -> float:
    """Buy pays more, sell receives less, by `slippage_bps` basis points of price."""
    factor = slippage_bps / 10_000
    return price * (1 + factor) if side == BUY else price * (1 - factor)


def fill_price(order: OrderTerms, bar: BarData, slippage_bps: float) -> float | None:
    """Price the order fills at on `bar`, or None when it does not fill there.

    Only bars after the decision bar are eligible (an order decided on bar t fills on t+1 at
    the earliest). Market: the open, slipped. Limit: when the bar trades through the limit, at
    the limit or a better open. Stop: when the bar trades through the stop, at the stop or a
    worse open, slipped.
    """
    if bar.ts <= order.decision_bar_ts:
        return None
    buy = order.side == BUY
    if order.order_type == "market":
        return slipped(bar.open, order.side, slippage_bps)
    if order.order_type == "limit":
        limit = order.limit_price
        if buy and bar.low <= limit:
            return min(bar.open, limit)
        if not buy and bar.high >= limit:
            return max(bar.open, limit)
        return None
    stop = order.stop_price
    if buy and bar.high >= stop:
        return slipped(max(bar.open, stop), order.side, slippage_bps)
    if not buy and bar.low <= stop:
        return slipped(min(bar.open, stop), order.side, slippage_bps)
    return None


def fee(notional: float, fee_bps: float) -> float:
    """Fee in quote currency: fee_bps basis points of the notional."""
    return notional * fee_bps / 10_000
