"""How likely a sweep's winner is luck: the probability of backtest overfitting (PBO, by
combinatorially symmetric cross-validation) over its variants, and the deflated Sharpe ratio
(DSR) of its winner given how many variants were tried — both from the variants' bar returns
(engine.analytics.overfitting computes them): PBO from the sums each variant stored in blocks
of bars, the DSR from the winner's per-bar curve, recomputed by the core."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.analytics.overfitting import (
    DEFAULT_SPLITS,
    MIN_VARIANTS,
    block_aggregates,
    deflated_sharpe_from_returns,
    pbo_from_blocks,
    per_bar_sharpe,
)
from engine.errors import BadInput
from engine.params import sweep_key
from engine.reads.curve import per_bar_curve
from engine.reads.sweeps import sweep_document
from engine.reads.sweeps import variants as ranked_variants
from engine.store.models import SweepVariant

MEANING = ("PBO is the chance that the variant that looks best on half of the bars ranks in "
           "the bottom half on the other half (0.5 or more: picking the best is no better "
           "than luck); the deflated Sharpe is the probability that the winner's Sharpe ratio "
           "beats the best one expected from as many variants with no skill (0.95 or more: "
           "unlikely to be luck).")


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


def _bar_returns(db: Engine, session_id: int) -> np.ndarray:
    """A variant's bar returns: equity at each bar's close ÷ the previous close − 1, from its
    per-bar curve (recomputed by the core, engine.reads.curve)."""
    equity = np.array([equity for _, _, equity in per_bar_curve(db, session_id)])
    return equity[1:] / equity[:-1] - 1


def variant_returns(db: Engine, sweep_id: int) -> tuple[list[int], np.ndarray]:
    """The finished variants' indices and their bar returns, bars × variants (the variants of
    a sweep share one window)."""
    rows = _variants(db, sweep_key(sweep_id))
    if not rows:
        return [], np.empty((0, 0))
    curves = [_bar_returns(db, row.session_id) for row in rows]
    lengths = {len(curve) for curve in curves}
    if len(lengths) > 1:
        raise BadInput(f"sweep {sweep_id}: its variants hold different numbers of bars "
                       f"({min(lengths) + 1} to {max(lengths) + 1}); they must share one window")
    return [row.idx for row in rows], np.stack(curves, axis=1)


def _variants(db: Engine, sweep_id: int) -> list:
    with Session(db) as s:
        return s.execute(select(SweepVariant.idx, SweepVariant.session_id,
                                SweepVariant.return_blocks)
                         .where(SweepVariant.sweep_id == sweep_id)
                         .order_by(SweepVariant.idx)).all()


@dataclass(frozen=True, slots=True)
class _Blocks:
    """The variants' returns as PBO needs them: bars (S,), sums and squares (S × N)."""

    order: list[int]  # variant indices, one a column
    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    winner_returns: Callable[[int], np.ndarray]  # a column's bar returns


def _blocks(db: Engine, sweep_id: int) -> _Blocks:
    """From the blocks each variant stored (engine.core.curve.return_blocks), else (variants
    written before they were kept, or a window too short for them) from every variant's
    per-bar curve."""
    rows = _variants(db, sweep_id)
    if rows and all(row.return_blocks for row in rows):
        cube = np.array([row.return_blocks for row in rows], dtype=float)  # N × S × 3
        bars = cube[:, :, 0].sum(axis=1)
        if (bars != bars[0]).any():
            raise BadInput(f"sweep {sweep_id}: its variants hold different numbers of bars "
                           f"({bars.min() + 1:.0f} to {bars.max() + 1:.0f}); they must share "
                           "one window")
        return _Blocks([row.idx for row in rows], cube[0, :, 0], cube[:, :, 1].T,
                       cube[:, :, 2].T, lambda column: _bar_returns(db, rows[column].session_id))
    order, returns = variant_returns(db, sweep_id)
    return _Blocks(order, *block_aggregates(returns, DEFAULT_SPLITS),
                   lambda column: returns[:, column])


def _missing(sweep_id: int, variants: int, bars: int, reason: str) -> OverfittingOdds:
    return OverfittingOdds(sweep_id, variants, bars, None, None, None, None, None, None, None,
                           reason)


def overfitting_odds(db: Engine, sweep_id) -> OverfittingOdds:
    """PBO and the winner's DSR of a sweep's finished variants (none of a sweep of fewer than
    MIN_VARIANTS; PBO needs at least DEFAULT_SPLITS bars, one per CSCV block)."""
    doc = sweep_document(db, sweep_id)  # NotFound for a sweep that does not exist
    key = doc.id
    blocks = _blocks(db, key)
    n_variants, n_bars = len(blocks.order), int(blocks.counts.sum())
    if n_variants < MIN_VARIANTS:
        return _missing(key, n_variants, n_bars,
                        f"PBO needs {MIN_VARIANTS} or more finished variants to choose from; "
                        f"this sweep has {n_variants}")
    if n_bars < DEFAULT_SPLITS:
        return _missing(key, n_variants, n_bars,
                        f"PBO needs {DEFAULT_SPLITS} or more bars (one per block); "
                        f"the window has {n_bars} bar returns")
    pbo = pbo_from_blocks(blocks.counts, blocks.sums, blocks.squares)
    first = ranked_variants(db, key).iloc[0]
    column, winner_session = blocks.order.index(int(first["idx"])), int(first["session_id"])
    sharpes = per_bar_sharpe(np.float64(n_bars), blocks.sums.sum(axis=0),
                             blocks.squares.sum(axis=0))
    try:
        dsr = deflated_sharpe_from_returns(blocks.winner_returns(column),
                                           sharpes[np.isfinite(sharpes)])
    except BadInput as exc:  # the winner never traded: its returns do not vary
        return OverfittingOdds(key, n_variants, n_bars, pbo.pbo, pbo.n_splits,
                               pbo.n_combinations, winner_session, None, None, None,
                               f"no deflated Sharpe: {exc}")
    return OverfittingOdds(key, n_variants, n_bars, pbo.pbo, pbo.n_splits, pbo.n_combinations,
                           winner_session, dsr.sharpe, dsr.expected_max_sharpe, dsr.dsr, None)
