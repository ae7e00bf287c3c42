"""Long-only spot accounting: cash, holdings at cost, realized P&L and trade statistics."""

from dataclasses import dataclass, field

from engine.core.fills import BUY, fee

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


def executable_qty(account: Account, symbol: str, side: str, qty: float, price: float,
                   fee_bps: float) -> float:
    """Clip `qty` so cash never goes negative (buys) and no short appears (sells)."""
    if side == BUY:
        affordable = account.cash / (price * (1 + fee_bps / 10_000))
        qty = min(qty, affordable)
    else:
        qty = min(qty, account.holding(symbol).qty)
    return qty if qty > DUST else 0.0


def apply_fill(account: Account, symbol: str, side: str, qty: float, price: float,
               fee_bps: float) -> tuple[float, float]:
    """Book a fill; return (fee, realized P&L of this fill) in quote currency."""
    cost = fee(qty * price, fee_bps)
    holding = account.holding(symbol)
    account.fees_paid += cost
    account.trade_count += 1
    if side == BUY:
        spent = qty * price + cost
        account.cash = max(0.0, account.cash - spent)
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
