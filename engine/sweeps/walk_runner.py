"""The engine side of a walk-forward sweep: once every variant of the sweep is written, train
each fold's variants (in the runner's pool), trade each fold's choice on its test bars, and
write the folds — each test run a completed session of the sweep, with a WalkForwardFold row —
and complete the sweep, all in one transaction (whole or nothing, like a variant)."""

import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait

from sqlalchemy import func, select
from sqlmodel import Session

from engine.analytics.walkforward import WalkForward
from engine.control.sweeps import locked_sweep
from engine.control.transitions import transition
from engine.core.bars import bars_per_year
from engine.core.lifecycle import SessionStatus, SweepStatus
from engine.store.db import session_scope
from engine.store.models import PaperSession, Sweep
from engine.store.types import utcnow
from engine.store.walk_forward import WalkForwardFold
from engine.sweeps.walk import (
    FoldRun,
    TrainTask,
    bar_times,
    choose,
    fold_windows,
    trade_folds,
    train,
    train_tasks,
)
from engine.trading.store import Batch, write_batches

POLL_S = 0.5
Trainer = Callable[[list[TrainTask]], list | None]  # None: stopped (cancel, shutdown)


def pool_trainer(submit: Callable[..., Future], stopped: Callable[[], bool]) -> Trainer:
    """Train on a process pool (its processes hold the sweep's bars), checking `stopped`
    (which also beats the sweep's heartbeat) every POLL_S."""
    def run(tasks: list[TrainTask]) -> list | None:
        pending = {submit(train, task) for task in tasks}
        results = []
        while pending:
            if stopped():
                for future in pending:
                    future.cancel()
                return None
            done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            results += [f.result() for f in done]
        return results
    return run


def all_written(db, sweep_id: int) -> bool:
    """Whether the sweep runs and every one of its variants is written."""
    with Session(db) as s:
        sweep = s.get(Sweep, sweep_id)
        return sweep.status == SweepStatus.RUNNING and sweep.done >= sweep.total


def run_walk_forward(plan, trainer: Trainer, holder: str | None = None, logger=None) -> bool:
    """Walk the sweep forward and write its folds; False when stopped or refused."""
    wf = plan.walk
    spec = WalkForward(wf["train"], wf["test"], wf["step"], wf["anchored"])
    settings = [plan.settings(idx) for idx in range(len(plan.values))]
    first = settings[0]
    per_year = bars_per_year(first.asset_class(first.symbols[0]), first.timeframe)
    windows = fold_windows(bar_times(plan.series, plan.start, plan.end), spec)
    results = trainer(train_tasks(windows, settings, per_year))
    if results is None:
        return False
    runs = trade_folds(windows, choose(results, len(windows), wf["objective"]), settings,
                       plan.series, plan.news)
    return write_folds(plan, runs, holder, logger)


def _score(run: FoldRun, objective: str) -> float | None:
    value = getattr(run.in_sample, objective)
    return value if value is not None and math.isfinite(value) else None


def write_folds(plan, runs: list[FoldRun], holder: str | None, logger=None) -> bool:
    """Write every fold and complete the sweep in one transaction; False when the sweep is no
    longer running, is being cancelled, was taken over from `holder` or has its folds."""
    now, objective = utcnow(), plan.walk["objective"]
    with Session(plan.db) as s:  # a look first: no heavy write when it would be refused
        if s.get(WalkForwardFold, (plan.id, 0)) is not None or not all_written(plan.db, plan.id):
            return False
    with session_scope(plan.db) as s:
        for run in runs:
            w, cash = run.window, run.settings.starting_cash
            row = PaperSession(**{**plan.fields[run.chosen],
                                  "name": f"{plan.name} · fold {w.fold.index + 1}"[:100],
                                  "starting_cash": cash, "cash": cash, "equity": cash,
                                  "marked_equity": cash, "peak_equity": cash,
                                  "window_from": w.test_from, "window_to": w.test_to,
                                  "bars_total": w.fold.test_end - w.fold.test_start},
                               status=SessionStatus.COMPLETED, sweep_id=plan.id,
                               started_at=now, stopped_at=now)
            s.add(row)
            s.flush()
            write_batches(s, [Batch(row.id, run.trader, run.out, complete=True)],
                          plan.cache.stored)
            s.add(WalkForwardFold(
                sweep_id=plan.id, idx=w.fold.index, train_from=w.train_from,
                train_to=w.train_to, test_from=w.test_from, test_to=w.test_to,
                train_bars=w.fold.train_end - w.fold.train_start,
                test_bars=w.fold.test_end - w.fold.test_start, variant_idx=run.chosen,
                values=plan.values[run.chosen], in_sample_score=_score(run, objective),
                in_sample_pct=run.in_sample.total_return * 100,
                out_sample_pct=run.out_sample_return * 100, session_id=row.id))
        sweep = locked_sweep(s, plan.id)
        written = s.execute(select(func.count()).select_from(WalkForwardFold).where(
            WalkForwardFold.sweep_id == plan.id)).scalar_one()
        if (sweep.status != SweepStatus.RUNNING or sweep.cancel_requested
                or (holder is not None and sweep.runner != holder) or written != len(runs)):
            s.rollback()
            return False
        sweep.heartbeat_at = now
        transition(s, sweep, "complete", note=f"{sweep.done} variants, {len(runs)} "
                   f"walk-forward folds", logger=logger)
    return True
