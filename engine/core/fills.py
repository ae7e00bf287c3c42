"""When, how much and at what price an order fills on a bar. Pure functions, no look-ahead.

The price of a fill: a base price by order type (below), then, for market and stop orders,
slippage of `slippage_bps + impact_bps × q / V` basis points against the order — where q is the
quantity filled on the bar and V the bar's volume — so the larger an order's share of the bar,
the worse its price. Limit orders fill at their limit or better and never slip. A sell's
slippage is at most the whole price (it never fills below zero); a buy takes at most what its
cash pays for at the price its own size makes (`affordable_qty`).
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from engine.core.bars import BarData

BUY, SELL = "buy", "sell"
PRICE_RULES = ("open", "worse")  # market orders: the open, or the worse of open and close


@dataclass(frozen=True)
class OrderTerms:
    side: str
    order_type: str
    decision_bar_ts: datetime
    limit_price: float | None = None
    stop_price: float | None = None


def slipped(price: float, side: str, slippage_bps: float) -> float:
    """Buy pays more, sell receives less, by `slippage_bps` basis points of price (a sell at
    most the whole price)."""
    factor = slippage_bps / 10_000
    return price * (1 + factor) if side == BUY else price * max(0.0, 1 - factor)


def base_price(order: OrderTerms, bar: BarData, rule: str = "open") -> tuple[float, bool] | None:
    """The price before slippage at which `order` fills on `bar` and whether it slips, or None
    when it does not fill there.

    Only bars after the decision bar are eligible (an order decided on bar t fills on t+1 at
    the earliest). Market: the open (rule `worse`: the higher of open and close for a buy, the
    lower for a sell). Limit: when the bar trades through the limit, at the limit or a better
    open. Stop: when the bar trades through the stop, at the stop or a worse open.
    """
    if bar.ts <= order.decision_bar_ts:
        return None
    buy = order.side == BUY
    if order.order_type == "market":
        if rule == "worse":
            return (max(bar.open, bar.close) if buy else min(bar.open, bar.close)), True
        return bar.open, True
    if order.order_type == "limit":
        limit = order.limit_price
        if buy and bar.low <= limit:
            return min(bar.open, limit), False
        if not buy and bar.high >= limit:
            return max(bar.open, limit), False
        return None
    stop = order.stop_price
    if buy and bar.high >= stop:
        return max(bar.open, stop), True
    if not buy and bar.low <= stop:
        return min(bar.open, stop), True
    return None


def slippage_bps(fixed_bps: float, impact_bps: float, qty: float, volume: float) -> float:
    """Slippage of a fill of `qty` on a bar that traded `volume`: fixed plus impact × share."""
    if impact_bps and volume > 0:
        return fixed_bps + impact_bps * qty / volume
    return fixed_bps


def fee(notional: float, fee_bps: float) -> float:
    """Fee in quote currency: fee_bps basis points of the notional."""
    return notional * fee_bps / 10_000


def buy_cost(qty: float, price: float, fee_bps: float) -> float:
    """What a buy of `qty` at `price` takes from cash: the notional plus its fee."""
    notional = qty * price
    return notional + fee(notional, fee_bps)


class Pricing(NamedTuple):
    """How a fill's price depends on its size: `base`, slipped against the order by
    `fixed_bps + impact_bps × qty / volume` basis points."""

    base: float  # quote currency
    side: str
    fixed_bps: float = 0.0
    impact_bps: float = 0.0
    volume: float = 0.0  # the bar's volume (no impact figure when 0)

    def bps(self, qty: float) -> float:
        return slippage_bps(self.fixed_bps, self.impact_bps, qty, self.volume)

    def price(self, qty: float) -> float:
        return slipped(self.base, self.side, self.bps(qty))


def affordable_qty(cash: float, pricing: Pricing, fee_bps: float) -> float:
    """The largest buy whose cost at the price its own size makes fits in `cash`.

    With q × base × (1 + (fixed + impact × q / V) / 10⁴) × (1 + fee) = cash, q is the positive
    root of a q² + b q = cash / (1 + fee); when rounding puts the root's cost above `cash`, it
    steps a few floats down (or, failing that, bisects below it), so that
    `buy_cost(q, pricing.price(q), fee_bps) <= cash` holds exactly.
    """
    b = pricing.base * (1 + pricing.fixed_bps / 10_000)
    if cash <= 0 or b <= 0:
        return 0.0 if cash <= 0 else math.inf  # no cash; or a free buy, which any size fits
    budget = cash / (1 + fee_bps / 10_000)
    a = (pricing.base * pricing.impact_bps / 10_000 / pricing.volume
         if pricing.impact_bps and pricing.volume > 0 else 0.0)
    qty = 2 * budget / (b + math.sqrt(b * b + 4 * a * budget))  # stable form of the root

    def fits(q: float) -> bool:
        return buy_cost(q, pricing.price(q), fee_bps) <= cash

    for _ in range(8):  # the root's rounding: a few steps of about 4 floats down fit
        if fits(qty):
            return qty
        qty *= 1 - 2 ** -50
    low, high = 0.0, qty  # low fits, high does not: halve down to the float below the root
    while True:
        mid = low + (high - low) / 2
        if not low < mid < high:
            return low
        low, high = (mid, high) if fits(mid) else (low, mid)
