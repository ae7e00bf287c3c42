"""A walk-forward sweep's result: per fold its windows, the parameters chosen on its train bars
and in-sample vs out-of-sample returns; overall the stitched out-of-sample equity (the fold
sessions end to end) beside buy & hold and the single best in-sample variant over the same
bars, and the walk-forward efficiency."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.analytics.walkforward import efficiency
from engine.core.bars import bars_per_year
from engine.core.selection import Candidate, annualised_return, select_best
from engine.market import catalog
from engine.reads.curve import per_bar_curve
from engine.reads.performance import buy_hold
from engine.reads.sweeps import sweep_document
from engine.store.models import EquitySnapshot, PaperSession, Sweep, SweepVariant
from engine.store.walk_forward import WalkForwardFold

FOLD_COLUMNS = ("fold", "train_from", "train_to", "test_from", "test_to", "train_bars",
                "test_bars", "variant_idx", "params", "in_sample_score", "in_sample_pct",
                "out_sample_pct", "session_id")
EFFICIENCY = ("walk-forward efficiency: the out-of-sample annual return ÷ the in-sample "
              "annual return of the chosen variants (about 1: they held up; near 0 or "
              "below: what the train bars taught did not carry over)")


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """Returns in % unless named otherwise; `curve` holds per out-of-sample bar `ts`,
    `equity` (stitched), `buy_hold` and `best_in_sample`, each from the same cash."""

    sweep_id: int
    train_bars: int
    test_bars: int
    step_bars: int
    anchored: bool
    objective: str
    expected_folds: int
    folds: pd.DataFrame  # FOLD_COLUMNS, oldest first (empty until the sweep completes)
    curve: pd.DataFrame
    out_sample_pct: float | None  # the stitched curve's return
    in_sample_pct: float | None  # the chosen variants' train returns, compounded
    efficiency: float | None  # None: undefined (in-sample annual return ≤ 0)
    buy_hold_pct: float | None  # over the out-of-sample bars
    best_variant: int | None  # idx of the best variant by the objective over the whole window
    best_in_sample_pct: float | None  # its return over the out-of-sample bars
    meaning: str = EFFICIENCY


def _folds(s: Session, sweep_id: int) -> pd.DataFrame:
    rows = s.execute(select(WalkForwardFold).where(WalkForwardFold.sweep_id == sweep_id)
                     .order_by(WalkForwardFold.idx)).scalars().all()
    return pd.DataFrame([(f.idx + 1, f.train_from, f.train_to, f.test_from, f.test_to,
                          f.train_bars, f.test_bars, f.variant_idx,
                          ", ".join(f"{k}={v}" for k, v in f.values.items()),
                          f.in_sample_score, f.in_sample_pct, f.out_sample_pct, f.session_id)
                         for f in rows], columns=list(FOLD_COLUMNS))


def _equity(s: Session, session_ids: list[int]) -> pd.DataFrame:
    rows = s.execute(select(EquitySnapshot.ts, EquitySnapshot.equity)
                     .where(EquitySnapshot.session_id.in_(session_ids))
                     .order_by(EquitySnapshot.ts)).all()
    return pd.DataFrame(rows, columns=["ts", "equity"])


def _best_variant(s: Session, sweep_id: int, objective: str, per_year: float) -> SweepVariant:
    """The variant the objective ranks first over the whole window (what a plain sweep would
    pick, in sample)."""
    rows = s.execute(select(SweepVariant, PaperSession.bars_done)
                     .join(PaperSession, PaperSession.id == SweepVariant.session_id)
                     .where(SweepVariant.sweep_id == sweep_id)
                     .order_by(SweepVariant.idx)).all()
    by_idx = {v.idx: v for v, _ in rows}
    best = select_best(objective, (
        Candidate((v.idx,), v.sharpe, v.return_pct / 100,
                  annualised_return(v.return_pct / 100, max(1, bars), per_year),
                  v.max_drawdown_pct / 100) for v, bars in rows))
    return by_idx[best.params[0]]


def walk_forward(db: Engine, sweep_id) -> WalkForwardResult | None:
    """The walk-forward of a sweep, or None for a sweep that is not one."""
    doc = sweep_document(db, sweep_id)
    with Session(db) as s:
        wf = (s.get(Sweep, doc.id).spec or {}).get("walk_forward")
        if wf is None:
            return None
        folds = _folds(s, doc.id)
        per_year = bars_per_year(catalog.asset_class(doc.symbols[0], doc.timeframe),
                                 doc.timeframe)
        curve = _equity(s, folds["session_id"].tolist()) if len(folds) else _equity(s, [])
        best = _best_variant(s, doc.id, wf["objective"], per_year) if len(folds) else None
        if best is not None:
            cash = curve["equity"].iloc[0]
            curve["buy_hold"] = buy_hold(s, doc.symbols, doc.timeframe, curve["ts"], cash)
            points = per_bar_curve(db, best.session_id)  # a variant: recomputed by the core
            theirs = pd.Series([p[2] for p in points], index=[p[0] for p in points])
            before = theirs[theirs.index < curve["ts"].iloc[0]]
            start = before.iloc[-1] if len(before) else theirs.iloc[0]
            curve["best_in_sample"] = theirs.reindex(curve["ts"]).to_numpy() / start * cash
    return _result(doc.id, wf, folds, curve, best, per_year)


def _pct(curve: pd.DataFrame, column: str) -> float | None:
    values = curve[column] if column in curve else pd.Series(dtype=float)
    if values.empty or not np.isfinite(values.iloc[-1]):
        return None
    return (values.iloc[-1] / curve["equity"].iloc[0] - 1) * 100


def _result(sweep_id: int, wf: dict, folds: pd.DataFrame, curve: pd.DataFrame,
            best: SweepVariant | None, per_year: float) -> WalkForwardResult:
    out_pct = in_pct = ratio = None
    if len(folds):
        out_pct = (curve["equity"].iloc[-1] / curve["equity"].iloc[0] - 1) * 100
        in_total = float(np.prod(1 + folds["in_sample_pct"].to_numpy() / 100)) - 1
        in_pct = in_total * 100
        ratio = efficiency(in_total, int(folds["train_bars"].sum()), out_pct / 100,
                           int(folds["test_bars"].sum()), per_year)
    return WalkForwardResult(
        sweep_id=sweep_id, train_bars=wf["train"], test_bars=wf["test"], step_bars=wf["step"],
        anchored=wf["anchored"], objective=wf["objective"], expected_folds=wf["folds"],
        folds=folds, curve=curve, out_sample_pct=out_pct, in_sample_pct=in_pct,
        efficiency=ratio, buy_hold_pct=_pct(curve, "buy_hold"),
        best_variant=None if best is None else best.idx,
        best_in_sample_pct=_pct(curve, "best_in_sample"))
