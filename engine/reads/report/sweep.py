"""A sweep's report: what was swept, the ranking, the heatmap, the overfitting odds, and (for a
walk-forward sweep) its folds and stitched out-of-sample curve."""

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from engine.reads import sweeps as sweep_reads
from engine.reads.overfitting import overfitting_odds
from engine.reads.records import SweepDocument
from engine.reads.report import figures
from engine.reads.report.html import Section, page
from engine.reads.report.session import writable
from engine.reads.walk_forward import walk_forward

CURVES = {"equity": "walk-forward (out of sample, stitched)", "buy_hold": "buy & hold",
          "best_in_sample": "best in-sample variant"}

MAX_RANKED = 500  # variants listed; `sweep show --json` lists every one


def _summary(doc: SweepDocument) -> Section:
    grid = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in doc.grid.items())
    return Section("summary", "What was swept").pairs({
        "status": doc.status, "variants": f"{doc.done:,} of {doc.total:,}",
        "strategy": doc.strategy, "symbols": ", ".join(doc.symbols),
        "timeframe": doc.timeframe, "window": f"{doc.window_from} – {doc.window_to}",
        "split": doc.split_at, "fill model": doc.fill_model, "grid": grid,
        "combinations the strategy refused": doc.skipped})


def _ranking(ranked: pd.DataFrame, doc: SweepDocument) -> Section:
    section = Section("ranking", "Ranking")
    if ranked.empty:
        return section.text("No variant has finished.")
    by = "in-sample return" if doc.split_at else "return"
    shown = ranked.drop(columns=["idx"]).head(MAX_RANKED)
    note = f"Ranked by {by}; each variant is a completed session (its id in session_id)."
    if len(ranked) > MAX_RANKED:
        note += f" The best {MAX_RANKED:,} of {len(ranked):,}."
    return section.text(note).table(shown, scroll=True, floats="{:,.2f}")


def _heatmap(ranked: pd.DataFrame, doc: SweepDocument) -> Section:
    section = Section("heatmap", "Heatmap")
    numeric = [v for v in doc.grid if v in ranked
               and pd.api.types.is_numeric_dtype(ranked[v])]
    if len(numeric) < 2:
        return section.text("A heatmap needs two numeric dimensions in the grid.")
    x, y = numeric[:2]
    return section.text(f"The best return % at each ({x}, {y}).").figure(
        figures.heatmap_figure(ranked, x, y, "return_pct"))


def _odds(db: Engine, sweep_id: int) -> Section:
    odds = overfitting_odds(db, sweep_id)
    section = Section("overfitting", "Overfitting odds").pairs({
        "probability of backtest overfitting (PBO)": odds.pbo,
        "CSCV combinations": odds.n_combinations,
        "deflated Sharpe ratio of the winner": odds.deflated_sharpe,
        "winner (session)": odds.winner_session_id,
        "winner's Sharpe, per bar": odds.winner_sharpe,
        "best Sharpe expected from luck, per bar": odds.expected_max_sharpe,
        "variants × bar returns": f"{odds.variants:,} × {odds.bars:,}"})
    if odds.reason:
        section.text(odds.reason)
    return section.text(odds.meaning)


def _walk(db: Engine, sweep_id: int) -> list[Section]:
    walk = walk_forward(db, sweep_id)
    if walk is None:
        return []
    kind = "anchored" if walk.anchored else "rolling"
    section = Section("walkforward", "Walk-forward").text(
        f"{kind}: train {walk.train_bars:,} bars, test {walk.test_bars:,}, step "
        f"{walk.step_bars:,}; each fold's variant chosen by {walk.objective} on its train bars "
        "and traded on its test bars as a completed session.")
    if walk.folds.empty:
        return [section.text("No folds yet: they run once every variant has finished.")]
    section.pairs({"out of sample, stitched %": walk.out_sample_pct,
                   "buy & hold over the same bars %": walk.buy_hold_pct,
                   f"best in-sample variant (idx {walk.best_variant}) over them %":
                       walk.best_in_sample_pct,
                   "in sample, chosen variants compounded %": walk.in_sample_pct,
                   "walk-forward efficiency": walk.efficiency})
    section.text(walk.meaning).figure(figures.curves_figure(walk.curve, CURVES))
    return [section.table(walk.folds, scroll=True, floats="{:,.2f}")]


def sweep_sections(db: Engine, sweep_id) -> tuple[SweepDocument, list[Section]]:
    """The sweep's document and its report's sections."""
    doc = sweep_reads.sweep_document(db, sweep_id)
    ranked = sweep_reads.variants(db, doc.id)
    return doc, [_summary(doc), _ranking(ranked, doc), _heatmap(ranked, doc),
                 *_walk(db, doc.id), _odds(db, doc.id)]


def sweep_report(db: Engine, sweep_id) -> str:
    """The sweep's report as one self-contained HTML document."""
    doc, sections = sweep_sections(db, sweep_id)
    return page(f"Sweep #{doc.id}: {doc.name}",
                f"{doc.strategy} on {', '.join(doc.symbols)} {doc.timeframe}",
                sections)


def write_sweep_report(db: Engine, sweep_id, out: str) -> Path:
    """Write the sweep's report to `out` (a file in an existing folder); return its path."""
    path = writable(out)
    path.write_text(sweep_report(db, sweep_id), encoding="utf-8")
    return path
