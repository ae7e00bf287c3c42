"""Long-only spot accounting: cash, holdings at cost, realized P&L and trade statistics."""

from dataclasses import dataclass, field

from engine.core.fills import BUY, Pricing, affordable_qty, buy_cost, fee

DUST = 1e-12


@dataclass
class Holding:
    qty: float = 0.0
    avg_price: float = 0.0  # cost basis per unit in quote currency, buy fees included


@dataclass
class Account:
    cash: float
    holdings: dict[str, Holding] = field(default_factory=dict)
    realized_pnl: float = 0.0
    fees_paid: float = 0.0
    trade_count: int = 0
    wins: int = 0
    losses: int = 0
    gross_profit: float = 0.0
    gross_loss: float = 0.0
    loss_streak: int = 0

    def holding(self, symbol: str) -> Holding:
        return self.holdings.setdefault(symbol, Holding())

    def equity(self, prices: dict[str, float]) -> float:
        """Cash plus every holding at `prices` (quote currency)."""
        return self.cash + sum(h.qty * prices[s] for s, h in self.holdings.items() if h.qty)


class BookingError(ValueError):
    """A fill the account cannot take (more than its cash or its holding): a sizing bug."""


def executable_qty(account: Account, symbol: str, qty: float, pricing: Pricing,
                   fee_bps: float) -> float:
    """Clip `qty` so cash never goes negative (buys, at the price their size makes) and no
    short appears (sells)."""
    if pricing.side == BUY:
        if buy_cost(qty, pricing.price(qty), fee_bps) > account.cash:
            qty = min(qty, affordable_qty(account.cash, pricing, fee_bps))
    else:
        qty = min(qty, account.holding(symbol).qty)
    return qty if qty > DUST else 0.0


def apply_fill(account: Account, symbol: str, *, side: str, qty: float, price: float,
               fee_bps: float) -> tuple[float, float]:
    """Book a fill; return (fee, realized P&L of this fill) in quote currency. Raise
    BookingError, booking nothing, for a buy that costs more than the cash or a sell of
    more than is held."""
    holding = account.holding(symbol)
    _check(account, holding, symbol, side, qty, price, fee_bps)
    cost = fee(qty * price, fee_bps)
    account.fees_paid += cost
    account.trade_count += 1
    if side == BUY:
        spent = buy_cost(qty, price, fee_bps)
        account.cash -= spent
        holding.avg_price = (holding.qty * holding.avg_price + spent) / (holding.qty + qty)
        holding.qty += qty
        return cost, 0.0
    account.cash += qty * price - cost
    realized = (price - holding.avg_price) * qty - cost
    holding.qty = 0.0 if holding.qty - qty <= DUST else holding.qty - qty
    account.realized_pnl += realized
    if realized > 0:
        account.wins += 1
        account.gross_profit += realized
        account.loss_streak = 0
    else:
        account.losses += 1
        account.gross_loss += -realized
        account.loss_streak += 1
    return cost, realized


def _check(account: Account, holding: Holding, symbol: str, side: str, qty: float,
           price: float, fee_bps: float) -> None:
    if qty < 0 or price < 0:
        raise BookingError(f"a {side} of {qty:g} {symbol} at {price:g}: negative")
    if side != BUY and qty - holding.qty > DUST:
        raise BookingError(f"a sell of {qty:g} {symbol} is more than the {holding.qty:g} held")
    notional = qty * price
    change = -buy_cost(qty, price, fee_bps) if side == BUY else notional - fee(notional, fee_bps)
    if account.cash + change < 0:
        raise BookingError(f"a {side} of {qty:g} {symbol} at {price:g} would leave cash "
                           f"{account.cash + change:g}")
