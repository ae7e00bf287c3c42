"""A session's performance over its equity snapshots, beside buy & hold of its symbols over
the same bars: the curves, drawdown, monthly returns and the headline figures a report shows.

Returns are fractions unless a name ends in _pct. Bar returns are each snapshot's equity over
the one before (the first over the starting cash); Sharpe is annualised for the bar frequency
with the sample standard deviation, as engine.core.stats computes it for the session."""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.core.bars import bars_per_year
from engine.errors import NotFound
from engine.market import catalog
from engine.params import session_key
from engine.reads.curve import per_bar_curve
from engine.store.models import Bar, PaperSession


@dataclass(frozen=True, slots=True)
class Figures:
    """Headline figures of one equity curve (a session's, or buy & hold's)."""

    total_return_pct: float
    annual_return_pct: float | None  # geometric; None over less than one bar
    sharpe: float | None  # annualised; None without spread
    max_drawdown_pct: float  # ≥ 0
    volatility_pct: float | None  # annualised standard deviation of bar returns


def _closes(s: Session, symbol: str, timeframe: str, start, end) -> pd.Series:
    rows = s.execute(select(Bar.ts, Bar.close).where(
        Bar.symbol == symbol, Bar.timeframe == timeframe, Bar.ts >= start, Bar.ts <= end)
        .order_by(Bar.ts)).all()
    return pd.Series([c for _, c in rows], index=[t for t, _ in rows], dtype=float)


def buy_hold(s: Session, symbols: list[str], timeframe: str, times: pd.Series,
             cash: float) -> np.ndarray:
    """`cash` in equal parts in each symbol at its first close of `times`, marked at each of
    `times` (a symbol without a bar keeps its last close); NaN without bars."""
    if not len(times):
        return np.empty(0)
    growth = []
    for symbol in symbols:
        closes = _closes(s, symbol, timeframe, times.iloc[0], times.iloc[-1])
        if len(closes):
            growth.append((closes.reindex(times).ffill().bfill() / closes.iloc[0]).to_numpy())
    return cash * sum(growth) / len(growth) if growth else np.full(len(times), np.nan)


def curves(db: Engine, session_id) -> tuple[pd.DataFrame, float, float]:
    """(curve, starting cash, bars a year): per snapshot `ts`, `equity`, `drawdown_pct` and
    `buy_hold` — the starting cash in equal parts in each symbol at its first close in the
    window, marked at each close (a symbol without a bar keeps its last close)."""
    key = session_key(session_id)
    with Session(db) as s:
        row = s.get(PaperSession, key)
        if row is None:
            raise NotFound(f"no session {key}")
    curve = pd.DataFrame([(ts, equity) for ts, _, equity in per_bar_curve(db, key)],
                         columns=["ts", "equity"])
    with Session(db) as s:
        symbols = row.symbols.split(",")
        curve["buy_hold"] = buy_hold(s, symbols, row.timeframe, curve["ts"], row.starting_cash)
    curve["drawdown_pct"] = (curve["equity"] / curve["equity"].cummax() - 1) * 100
    return curve, row.starting_cash, bars_per_year(catalog.asset_class(symbols[0], row.timeframe),
                                                    row.timeframe)


def bar_returns(equity: pd.Series, starting_cash: float) -> pd.Series:
    """Each bar's return: its equity over the previous bar's (the first over the cash)."""
    before = equity.shift(1).fillna(starting_cash)
    return equity / before - 1


def figures(equity: pd.Series, starting_cash: float, per_year: float) -> Figures:
    """The headline figures of an equity curve that started from `starting_cash`."""
    returns = (equity / equity.shift(1) - 1).dropna()  # as the core's ledger: from bar 2
    total = equity.iloc[-1] / starting_cash - 1 if len(equity) else 0.0
    spread = returns.std(ddof=1) if len(returns) > 1 else math.nan
    sharpe = (returns.mean() / spread * math.sqrt(per_year)
              if math.isfinite(spread) and spread * spread > 1e-18 else None)
    peak = equity.cummax()
    drawdown = float(((peak - equity) / peak).max() * 100) if len(equity) else 0.0
    annual = ((1 + total) ** (per_year / len(equity)) - 1) * 100 if len(equity) else None
    return Figures(total * 100, annual, sharpe, drawdown,
                   spread * math.sqrt(per_year) * 100 if math.isfinite(spread) else None)


def monthly_returns(curve: pd.DataFrame, starting_cash: float) -> pd.DataFrame:
    """Per calendar month (UTC) of market time: `year`, `month` and `return_pct`, the equity
    at the month's last bar over the previous month's (the first month over the cash)."""
    if curve.empty:
        return pd.DataFrame(columns=["year", "month", "return_pct"])
    times = pd.to_datetime(curve["ts"], utc=True)
    ends = curve["equity"].groupby([times.dt.year.rename("year"),
                                    times.dt.month.rename("month")]).last()
    previous = ends.shift(1).fillna(starting_cash)
    frame = ((ends / previous - 1) * 100).rename("return_pct").reset_index()
    frame.columns = ["year", "month", "return_pct"]
    return frame
