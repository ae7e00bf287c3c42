"""Monte-Carlo of a session (or a sweep variant): its closed trades resampled with replacement
(engine.analytics.montecarlo) — how its result could have come out had the same trades come in
another order and mix.

A closed trade is a sell order: its fills' realized P&L summed (fees included: a buy's fee
sits in its cost basis, a sell's in its realized P&L). Its return is that P&L over the
session's realized equity before it (starting cash + the P&L of the trades closed before), so
the trades compounded in their own order end exactly at the session's realized return. A
position still open is not a closed trade and is left out.
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.analytics.montecarlo import MonteCarlo, bootstrap_trades
from engine.core.fills import SELL
from engine.errors import NotFound
from engine.params import session_key
from engine.store.models import Fill, PaperSession

DEFAULT_PATHS = 1000
DEFAULT_SEED = 0


@dataclass(frozen=True, slots=True)
class SessionMonteCarlo:
    """A session's bootstrap: the trades it resampled and the result (fractions)."""

    session_id: int
    starting_cash: float  # quote currency
    trade_returns: np.ndarray  # per closed trade, in the order they closed
    result: MonteCarlo

    def summary(self) -> dict:
        """The figures without the per-path arrays, for JSON and reports."""
        r = self.result
        return {"session_id": self.session_id, "paths": r.n, "seed": r.seed,
                "trades": r.trades, "starting_cash": self.starting_cash,
                "final_return": r.final_return, "max_drawdown": r.max_drawdown,
                "probability_below_start": r.probability_below_start}


def closed_trade_returns(db: Engine, session_id) -> tuple[float, np.ndarray]:
    """The session's starting cash and its closed trades' returns, oldest first."""
    key = session_key(session_id)
    with Session(db) as s:
        cash = s.execute(select(PaperSession.starting_cash)
                         .where(PaperSession.id == key)).scalar()
        if cash is None:
            raise NotFound(f"no session {key}")
        pnl = s.execute(select(func.sum(Fill.realized_pnl))
                        .where(Fill.session_id == key, Fill.side == SELL)
                        .group_by(Fill.order_id).order_by(func.max(Fill.id))).scalars().all()
    profits = np.asarray(pnl, dtype=float)
    before = cash + np.concatenate(([0.0], np.cumsum(profits)[:-1]))
    return cash, profits / before


def monte_carlo(db: Engine, session_id, n: int = DEFAULT_PATHS,
                seed: int = DEFAULT_SEED) -> SessionMonteCarlo:
    """Bootstrap the session's closed trades into `n` paths from `seed` (the same seed gives
    the same paths)."""
    cash, returns = closed_trade_returns(db, session_id)
    result = bootstrap_trades(returns, n=n, seed=seed, starting_equity=cash)
    return SessionMonteCarlo(session_key(session_id), cash, returns, result)
