"""How likely a sweep's winner is luck: the probability of backtest overfitting (PBO, by
combinatorially symmetric cross-validation) over its variants, and the deflated Sharpe ratio
(DSR) of its winner given how many variants were tried — both from the variants' stored
equity, one snapshot a bar (engine.analytics.overfitting computes them)."""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from engine.analytics.overfitting import (
    DEFAULT_SPLITS,
    MIN_VARIANTS,
    deflated_sharpe_from_returns,
    per_bar_sharpe,
    probability_of_backtest_overfitting,
)
from engine.errors import BadInput
from engine.params import sweep_key
from engine.reads.sweeps import sweep_document
from engine.reads.sweeps import variants as ranked_variants
from engine.store.db import fetch_raw

MEANING = ("PBO is the chance that the variant that looks best on half of the bars ranks in "
           "the bottom half on the other half (0.5 or more: picking the best is no better "
           "than luck); the deflated Sharpe is the probability that the winner's Sharpe ratio "
           "beats the best one expected from as many variants with no skill (0.95 or more: "
           "unlikely to be luck).")
EQUITY_SQL = ("SELECT v.idx, e.equity FROM sweep_variant v JOIN equity_snapshot e "
              "ON e.session_id = v.session_id WHERE v.sweep_id = ? ORDER BY v.idx, e.ts")


@dataclass(frozen=True, slots=True)
class OverfittingOdds:
    """A sweep's overfitting odds; a figure it cannot have is None and `reason` says why.
    Sharpe ratios are per bar (not annualised), as both papers use them."""

    sweep_id: int
    variants: int  # finished variants the odds are computed over
    bars: int  # bar returns per variant (snapshots − 1)
    pbo: float | None  # probability of backtest overfitting, 0 … 1
    n_splits: int | None  # CSCV blocks
    n_combinations: int | None
    winner_session_id: int | None  # the sweep's rank 1 (by its own ranking)
    winner_sharpe: float | None  # per bar
    expected_max_sharpe: float | None  # per bar: the best of `variants` tries with no skill
    deflated_sharpe: float | None  # probability, 0 … 1
    reason: str | None  # why a figure is missing
    meaning: str = MEANING


def variant_returns(db: Engine, sweep_id: int) -> tuple[list[int], np.ndarray]:
    """The finished variants' indices and their bar returns, bars × variants: equity at each
    bar's close ÷ the previous close − 1 (the variants of a sweep share one window)."""
    rows = fetch_raw(db, EQUITY_SQL, (sweep_key(sweep_id),))
    if not rows:
        return [], np.empty((0, 0))
    idx = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    equity = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    lengths = np.diff(np.r_[starts, len(idx)])
    if (lengths != lengths[0]).any():
        raise BadInput(f"sweep {sweep_id}: its variants hold different numbers of bars "
                       f"({lengths.min()} to {lengths.max()}); they must share one window")
    curves = equity.reshape(len(starts), lengths[0]).T  # bars × variants
    return idx[starts].tolist(), curves[1:] / curves[:-1] - 1


def _missing(sweep_id: int, variants: int, bars: int, reason: str) -> OverfittingOdds:
    return OverfittingOdds(sweep_id, variants, bars, None, None, None, None, None, None, None,
                           reason)


def overfitting_odds(db: Engine, sweep_id) -> OverfittingOdds:
    """PBO and the winner's DSR of a sweep's finished variants (none of a sweep of fewer than
    MIN_VARIANTS; PBO needs at least DEFAULT_SPLITS bars, one per CSCV block)."""
    doc = sweep_document(db, sweep_id)  # NotFound for a sweep that does not exist
    key = doc.id
    order, returns = variant_returns(db, key)
    n_variants, n_bars = len(order), returns.shape[0]
    if n_variants < MIN_VARIANTS:
        return _missing(key, n_variants, n_bars,
                        f"PBO needs {MIN_VARIANTS} or more finished variants to choose from; "
                        f"this sweep has {n_variants}")
    if n_bars < DEFAULT_SPLITS:
        return _missing(key, n_variants, n_bars,
                        f"PBO needs {DEFAULT_SPLITS} or more bars (one per block); "
                        f"the window has {n_bars} bar returns")
    pbo = probability_of_backtest_overfitting(returns, DEFAULT_SPLITS)
    first = ranked_variants(db, key).iloc[0]
    column, winner_session = order.index(int(first["idx"])), int(first["session_id"])
    sharpes = per_bar_sharpe(np.float64(n_bars), returns.sum(axis=0),
                             np.einsum("ij,ij->j", returns, returns))
    try:
        dsr = deflated_sharpe_from_returns(returns[:, column], sharpes[np.isfinite(sharpes)])
    except BadInput as exc:  # the winner never traded: its returns do not vary
        return OverfittingOdds(key, n_variants, n_bars, pbo.pbo, pbo.n_splits,
                               pbo.n_combinations, winner_session, None, None, None,
                               f"no deflated Sharpe: {exc}")
    return OverfittingOdds(key, n_variants, n_bars, pbo.pbo, pbo.n_splits, pbo.n_combinations,
                           winner_session, dsr.sharpe, dsr.expected_max_sharpe, dsr.dsr, None)
