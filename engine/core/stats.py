"""Statistics of a session from its running counters: no scan over fills or snapshots."""

import math

from engine.core.bars import bars_per_year


def sharpe(n: int, total: float, total_sq: float, periods_per_year: float) -> float | None:
    """Annualized Sharpe ratio (risk-free 0) from the count, sum and sum of squares of returns."""
    if n < 2:
        return None
    mean = total / n
    var = (total_sq - n * mean * mean) / (n - 1)
    if var <= 1e-18:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def profit_factor(gross_profit: float, gross_loss: float) -> float | None:
    if gross_loss <= 0:
        return None if gross_profit <= 0 else math.inf
    return gross_profit / gross_loss


def max_drawdown_pct(equity: list[float]) -> float:
    """Largest fall from a running peak, in percent (an independent, whole-series computation)."""
    peak, worst = -math.inf, 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak * 100)
    return worst


def session_stats(row: dict, unrealized: float, asset_class: str = "crypto") -> dict:
    """The metrics of one session from its stored counters and first/last prices (the Sharpe
    annualised on the calendar of its first symbol's `asset_class`)."""
    symbols = row["symbols"].split(",")
    first, last = row.get("first_price") or {}, row.get("last_price") or {}
    bh = [last[s] / first[s] - 1 for s in symbols if s in first and s in last]
    closed = row["wins"] + row["losses"]
    per_year = bars_per_year(asset_class, row["timeframe"])
    return {
        "return_pct": (row["equity"] / row["starting_cash"] - 1) * 100,
        "buy_hold_pct": sum(bh) / len(bh) * 100 if bh else None,
        "realized_pnl": row["realized_pnl"],
        "unrealized_pnl": unrealized,
        "win_rate_pct": row["wins"] / closed * 100 if closed else None,
        "profit_factor": profit_factor(row["gross_profit"], row["gross_loss"]),
        "max_drawdown_pct": row["max_drawdown_pct"],
        "sharpe": sharpe(row["ret_n"], row["ret_sum"], row["ret_sumsq"], per_year),
        "trades": row["trade_count"],
        "fees_paid": row["fees_paid"],
    }
