"""What realism costs: a session's window fast-forwarded again under each fill-model preset,
with the settings it started with otherwise, side by side with what it did."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from engine.core.fill_models import PRESETS, preset_values, summary
from engine.reads.reconcile import initial_settings, rerun, windowed_session

CURVE_POINTS = 1000  # equity points kept per run for the chart


@dataclass(frozen=True)
class ModelRun:
    model: str
    description: str  # the model's values in one line
    return_pct: float
    max_drawdown_pct: float
    fills: int
    partial_orders: int  # orders filled over more than one bar
    fees: float  # quote currency
    curve: list[tuple[datetime, float]] = field(default_factory=list)  # (bar time, equity)


def _thinned(snapshots: list[tuple[datetime, float, float]]) -> list[tuple[datetime, float]]:
    step = max(1, len(snapshots) // CURVE_POINTS)
    kept = snapshots[::step]
    if snapshots and kept[-1] is not snapshots[-1]:
        kept.append(snapshots[-1])
    return [(ts, equity) for ts, _, equity in kept]


def compare_fill_models(db: Engine, session_id) -> list[ModelRun]:
    """Run the session's window under each preset (a replay session: its whole window; a
    live one: up to its clock); the settings are those it was created with."""
    with Session(db) as s:
        row = windowed_session(s, session_id)
    until = row.window_to if row.source == "replay" else row.last_bar_at
    start = initial_settings(row)
    runs = []
    for model in PRESETS:
        values = {**preset_values(model, start.asset_classes), "fill_model": model}
        out, trader = rerun(db, row, start.changed(values), until)
        per_order: dict[int, int] = {}
        for f in out.fills:
            per_order[f.seq] = per_order.get(f.seq, 0) + 1
        equity = trader.ledger.marked_equity
        runs.append(ModelRun(
            model=model, description=summary(values),
            return_pct=(equity / start.starting_cash - 1) * 100,
            max_drawdown_pct=trader.ledger.max_drawdown_pct, fills=len(out.fills),
            partial_orders=sum(1 for n in per_order.values() if n > 1),
            fees=trader.account.fees_paid, curve=_thinned(out.snapshots)))
    return runs
