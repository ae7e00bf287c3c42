"""The engine side of sweeps. Each finished variant is written as a completed session —
orders, fills, equity snapshots, account, positions, its figures and the sweep's progress — in
ONE transaction (`_Plan.write`), so a cancel, a stop or a crash leaves only whole variants; the
write of the last variant completes the sweep.

SQLite (and `run_sweep` on either database): the runner claims a queued sweep and runs its
variants in a local process pool (engine.sweeps.variant, one variant a task). A sweep left
`running` by an engine that died (no heartbeat for STALE_S) is resumed: the variants already
written are skipped.

PostgreSQL, in the engine: the worker that starts a queued sweep defers one job per variant to
the job queue (engine.fleet.jobs, procrastinate) in the same transaction, and any worker runs them
(`run_variant_job`); the write is fenced (a sweep no longer running writes nothing) and
idempotent (a variant already written is skipped). Every tick, every worker also cancels the
sweeps asked to stop and puts back the jobs of dead workers.

The runner works outside the per-bar tick path (its own scheduler job and thread in the engine
process; pool processes do the computing).
"""

import os
import socket
import threading
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from functools import lru_cache
from multiprocessing import get_context
from typing import Protocol

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from engine.control.sweep_spec import base_fields, variant_fields, variants
from engine.control.sweeps import locked_sweep
from engine.control.transitions import transition
from engine.core.lifecycle import SessionStatus, SweepStatus
from engine.core.settings import TradeSettings
from engine.core.trader import Trader
from engine.errors import TransientError, one_line
from engine.market import catalog
from engine.market.series import BarCache
from engine.news.series import load_news
from engine.store.db import get_engine, session_scope
from engine.store.events import record_event
from engine.store.models import PaperSession, Sweep, SweepVariant
from engine.store.types import utcnow
from engine.sweeps.in_flight import IN_FLIGHT, InFlight
from engine.sweeps.variant import VariantRun, init, init_packed, packed, run_variant
from engine.sweeps.walk import train
from engine.sweeps.walk_runner import all_written, pool_trainer, run_walk_forward
from engine.trading.store import Batch, write_batches

STALE_S = 30.0  # a running sweep whose runner has been silent this long is taken over
POLL_S = 0.5  # how often a running sweep checks for cancel and beats its heartbeat
JOB_RUNNER = "job queue"  # Sweep.runner of a sweep whose variants run as jobs


class JobQueue(Protocol):
    """What the runner needs of the job queue (engine.fleet.jobs.JobWorker)."""

    def defer(self, s: Session, sweep_id: int, idxs: list[int]) -> None:
        """Queue a job per variant inside the caller's transaction."""

    def cancel(self, sweep_id: int) -> int:
        """Drop the sweep's jobs still waiting; return how many."""

    def retry_stalled(self) -> list[tuple[int, int]]:
        """Queue again the jobs of dead workers; return their (sweep id, variant index)."""


class SweepRunner:
    """Runs queued sweeps: `tick` from a scheduler job, `stop` at shutdown. With `jobs` (the
    engine on PostgreSQL) their variants run on the job queue, else in this process's pool."""

    def __init__(self, db: Engine, logger=None, workers: int | None = None,
                 jobs: JobQueue | None = None):
        self.db = db
        self.logger = logger
        self.workers = workers or os.cpu_count() or 1
        self.jobs = jobs
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.fault = ""  # the job queue's last fault logged

    def stop(self) -> None:
        """Stop the running sweep after the variant being written (it resumes on restart)."""
        self.stopping.set()

    def tick(self) -> None:
        """Run every sweep waiting for an engine, oldest first, until none is left."""
        if self.jobs is not None:
            self._tick_jobs(self.jobs)
            return
        while not self.stopping.is_set():
            sweep_id = self.claim()
            if sweep_id is None:
                return
            if not self.run(sweep_id):
                return  # waiting for bars: try again on the next tick

    def claim(self) -> int | None:
        """Take the oldest queued sweep, or a running one whose runner went silent."""
        stale = utcnow() - timedelta(seconds=STALE_S)
        with session_scope(self.db) as s:
            rows = s.execute(select(Sweep).where(or_(
                Sweep.status == SweepStatus.QUEUED,
                (Sweep.status == SweepStatus.RUNNING) & or_(
                    Sweep.runner.is_(None), Sweep.runner == self.holder,
                    Sweep.heartbeat_at < stale))).order_by(Sweep.id).limit(1)).scalars().all()
            if not rows:
                return None
            sweep = rows[0]
            taken = s.execute(update(Sweep).where(
                Sweep.id == sweep.id, Sweep.status == sweep.status,
                Sweep.heartbeat_at.is_(None) if sweep.heartbeat_at is None
                else Sweep.heartbeat_at == sweep.heartbeat_at)
                .values(runner=self.holder, heartbeat_at=utcnow())).rowcount
            if not taken:
                return None
            if sweep.status == SweepStatus.QUEUED:
                s.refresh(sweep)
                transition(s, sweep, "start", note=f"on {self.holder}, {self.workers} processes",
                     logger=self.logger)
            return sweep.id

    def run(self, sweep_id: int) -> bool:
        """Run the sweep's remaining variants; False when its bars are not stored yet."""
        plan = _Plan(self.db, sweep_id)
        if plan.missing:
            self._beat(sweep_id, wait_reason=plan.missing)
            return False
        self._beat(sweep_id, wait_reason=None)
        try:
            self._run(plan)
        except Exception as exc:
            fail_sweep(self.db, sweep_id, f"{type(exc).__name__}: {exc}", self.logger)
            raise
        return True

    def _run(self, plan: "_Plan") -> None:
        remaining = plan.remaining()
        processes = self.workers if plan.walk else min(self.workers, max(1, len(remaining)))
        with packed(plan.series, plan.news) as bars, ProcessPoolExecutor(
                processes, mp_context=get_context("spawn"), initializer=init_packed,
                initargs=(bars,)) as pool:
            flight = InFlight(lambda task: pool.submit(run_variant, *task, plan.start, plan.end,
                                                       plan.split),
                              remaining, IN_FLIGHT * processes)
            while flight and not self._halted(plan.id):
                written = False  # a variant's write beats the sweep's heart itself
                for run in sorted(flight.finished(POLL_S), key=lambda run: run.idx):
                    if not plan.write(run, self.holder, self.logger):
                        break
                    written = True
                if not written:
                    self._beat(plan.id)
            if plan.walk and not self._halted(plan.id) and all_written(self.db, plan.id):
                run_walk_forward(plan, pool_trainer(pool.submit, lambda: self._beat(plan.id)
                                                    or self._halted(plan.id)),
                                 self.holder, self.logger)
            pool.shutdown(cancel_futures=True)  # the variants still computing are dropped
        self._finish(plan.id)

    def _halted(self, sweep_id: int) -> bool:
        with Session(self.db) as s:
            row = s.execute(select(Sweep.cancel_requested, Sweep.runner)
                            .where(Sweep.id == sweep_id)).one()
        return self.stopping.is_set() or row.cancel_requested or row.runner != self.holder

    def _beat(self, sweep_id: int, **values) -> None:
        with session_scope(self.db) as s:
            s.execute(update(Sweep).where(Sweep.id == sweep_id, Sweep.runner == self.holder)
                      .values(heartbeat_at=utcnow(), **values))

    def _finish(self, sweep_id: int) -> None:
        """Cancel the sweep when asked to (the write of its last variant completes it)."""
        with session_scope(self.db) as s:
            sweep = s.get(Sweep, sweep_id)
            if (sweep.runner == self.holder and sweep.status == SweepStatus.RUNNING
                    and sweep.cancel_requested):
                transition(s, sweep, "cancel", note=f"{sweep.done} of {sweep.total} variants kept",
                     logger=self.logger)

    # ------------------------------------------------------------ PostgreSQL: the job queue

    def _tick_jobs(self, jobs: JobQueue) -> None:
        """Cancel the sweeps asked to stop, put back the jobs of dead workers, then start
        every queued sweep as jobs, oldest first."""
        try:
            self._cancel_requested(jobs)
            self._retry_stalled(jobs)
            self.fault = ""
        except TransientError as exc:
            if str(exc) != self.fault and self.logger is not None:
                self.logger.warning("sweeps: %s; retrying", exc)
            self.fault = str(exc)
        while not self.stopping.is_set() and self._start_as_jobs(jobs):
            pass

    def _start_as_jobs(self, jobs: JobQueue) -> bool:
        """Start the oldest queued sweep and queue a job per variant, in one transaction;
        False when no sweep was started (none queued, or its bars are not stored yet)."""
        with session_scope(self.db) as s:
            sweep = s.execute(select(Sweep).where(Sweep.status == SweepStatus.QUEUED)
                              .order_by(Sweep.id).limit(1)
                              .with_for_update(skip_locked=True)).scalars().first()
            if sweep is None:
                return False
            plan = _Plan(self.db, sweep.id)
            sweep.wait_reason = plan.missing
            if plan.missing:
                return False
            transition(s, sweep, "start", note=f"{len(plan.values)} jobs queued by {self.holder}",
                 logger=self.logger)
            sweep.runner, sweep.heartbeat_at = JOB_RUNNER, utcnow()
            jobs.defer(s, sweep.id, list(range(len(plan.values))))
        return True

    def _cancel_requested(self, jobs: JobQueue) -> None:
        """Cancel the running sweeps asked to stop, their waiting jobs first (no variant is
        written once a cancel is asked; a queue fault leaves the sweep for the next tick)."""
        with session_scope(self.db) as s:
            for sweep in s.execute(select(Sweep).where(
                    Sweep.status == SweepStatus.RUNNING, Sweep.cancel_requested,
                    Sweep.runner == JOB_RUNNER)  # NO KEY UPDATE: writes share-lock it a while
                    .with_for_update(skip_locked=True, key_share=True)).scalars():
                dropped = jobs.cancel(sweep.id)
                transition(s, sweep, "cancel", note=f"{sweep.done} of {sweep.total} variants kept, "
                     f"{dropped} waiting jobs dropped", logger=self.logger)

    def _retry_stalled(self, jobs: JobQueue) -> None:
        """Queue again the variants whose worker died while running them, and say so."""
        retried: dict[int, list[int]] = defaultdict(list)
        for sweep_id, idx in jobs.retry_stalled():
            retried[sweep_id].append(idx + 1)
        if not retried:
            return
        with session_scope(self.db) as s:
            for sweep_id, numbers in retried.items():
                message = (f"sweep {sweep_id}: variant(s) #{', #'.join(map(str, numbers))} "
                           f"queued again by {self.holder}: the worker running them died")
                record_event(s, f"sweep-{sweep_id}", "jobs_retried", message, "warning")
                if self.logger is not None:
                    self.logger.warning(message)


class _Plan:
    """A sweep's variants as session fields and settings, and its bars in memory."""

    def __init__(self, db: Engine, sweep_id: int):
        self.db, self.id = db, sweep_id
        with Session(db) as s:
            sweep = s.get(Sweep, sweep_id)
            self.done = set(s.execute(select(SweepVariant.idx)
                                      .where(SweepVariant.sweep_id == sweep_id)).scalars())
        self.session = session = sweep.spec["session"]
        self.name, self.split = sweep.name, sweep.split_at
        self.walk = sweep.spec.get("walk_forward")  # None, or its layout and objective
        self.values, _ = variants(session["strategy"], sweep.spec["grid"])
        self.base = base_fields(db, sweep.name, session, self.values[0])
        self.start, self.end = self.base["window_from"], self.base["window_to"]
        self.cache = BarCache(db)
        self.series = self.cache.session_series(tuple(self.base["symbols"].split(",")),
                                                self.base["timeframe"])
        short = [s for s, (times, _) in self.series.items() if not times or times[-1] < self.end]
        self.missing = (f"waiting for {', '.join(short)} {self.base['timeframe']} bars up to "
                        f"{self.end:%Y-%m-%d %H:%M} (market data agent)" if short else None)
        self.fields: dict[int, dict] = {}
        self.news = load_news(db, self.settings(0))  # every variant reads the same scores

    def settings(self, idx: int) -> TradeSettings:
        """The settings of variant `idx` (its session fields are kept for the write)."""
        fields = variant_fields(self.base, self.session, self.values[idx]) | {
            "name": f"{self.name} #{idx + 1}"[:100]}
        self.fields[idx] = fields
        return catalog.trade_settings(_Row(fields))

    def remaining(self) -> list[tuple[int, TradeSettings]]:
        return [(idx, self.settings(idx)) for idx in range(len(self.values))
                if idx not in self.done]

    def write(self, run: VariantRun, holder: str | None = None, logger=None) -> bool:
        """Write one finished variant in one transaction, completing the sweep with its last
        variant; False when nothing is written (`_refused`). The sweep row is locked last, so
        concurrent writers overlap their inserts and queue only for the fence and the count
        (FOR NO KEY UPDATE: the inserts' foreign keys share-lock that row)."""
        with Session(self.db) as s:  # a look first: no heavy write for a refused variant
            if self._refused(s, s.get(Sweep, self.id), run.idx, holder):
                return False
        now = utcnow()
        with session_scope(self.db) as s:
            row = PaperSession(**self.fields[run.idx], status=SessionStatus.COMPLETED,
                               sweep_id=self.id, started_at=now, stopped_at=now)
            s.add(row)
            s.flush()
            trader = Trader(run.settings, run.account, run.ledger)
            write_batches(s, [Batch(row.id, trader, run.out, complete=True)], self.cache.stored)
            sweep = locked_sweep(s, self.id)
            if self._refused(s, sweep, run.idx, holder):
                s.rollback()
                return False
            s.add(SweepVariant(sweep_id=self.id, idx=run.idx, session_id=row.id,
                               values=self.values[run.idx], **run.figures))
            sweep.done += 1
            sweep.heartbeat_at = now
            s.add(sweep)
            if sweep.done >= sweep.total and not self.walk:  # else its folds complete it
                transition(s, sweep, "complete", note=f"{sweep.done} variants", logger=logger)
        return True

    def _refused(self, s: Session, sweep: Sweep, idx: int, holder: str | None) -> bool:
        """Whether variant `idx` must not be written: the sweep is no longer running or is
        being cancelled, was taken over from `holder` (the local runner that must own it), or
        has this variant already."""
        return (sweep.status != SweepStatus.RUNNING or sweep.cancel_requested
                or (holder is not None and sweep.runner != holder)
                or s.get(SweepVariant, (self.id, idx)) is not None)


class _Row:
    """Attribute access to session fields (what TradeSettings.of reads)."""

    def __init__(self, fields: dict):
        self.__dict__.update(fields)


def sweep_running(db: Engine, sweep_id: int) -> bool:
    """Whether a sweep is running and not being cancelled (its variants still wanted)."""
    with Session(db) as s:
        row = s.execute(select(Sweep.status, Sweep.cancel_requested)
                        .where(Sweep.id == sweep_id)).one_or_none()
    return row is not None and row.status == SweepStatus.RUNNING and not row.cancel_requested


def fail_sweep(db: Engine, sweep_id: int, message: str, logger=None) -> None:
    """Put a running sweep in error with `message`: a fault that running it again repeats."""
    with session_scope(db) as s:
        sweep = locked_sweep(s, sweep_id)
        if sweep.status == SweepStatus.RUNNING:
            sweep.error = message
            transition(s, sweep, "fail", note=message, logger=logger)


@lru_cache(maxsize=4)
def _job_plan(url: str, sweep_id: int) -> _Plan:
    return _Plan(get_engine(url), sweep_id)


def run_variant_job(url: str, sweep_id: int, idx: int) -> bool:
    """Run variant `idx` of a sweep and write it, in a pool process of a job worker (the
    sweep's plan, bars included, is loaded once per sweep in that process); return whether
    it was written. A database fault is a TransientError: the job queue runs it again."""
    try:
        plan = _job_plan(url, sweep_id)
        init(plan.series, plan.news)
        run = run_variant(idx, plan.settings(idx), plan.start, plan.end, plan.split)
        written = plan.write(run)
        if plan.walk and all_written(plan.db, sweep_id):  # the last variant (or its job run
            # again after its worker died walking forward): the folds' write is fenced
            run_walk_forward(plan, lambda tasks: [train(t, plan.series, plan.news)
                                                  for t in tasks])
        return written
    except SQLAlchemyError as exc:
        raise TransientError(f"database unavailable ({one_line(exc)})") from None


def run_sweep(db: Engine, sweep_id: int, workers: int | None = None) -> str:
    """Run one queued sweep to its end in this process (tests and benchmarks; the engine's
    runner does the same); return its final status."""
    runner = SweepRunner(db, workers=workers)
    if runner.claim() != sweep_id:
        raise RuntimeError(f"sweep {sweep_id} is not the oldest waiting sweep")
    runner.run(sweep_id)
    with Session(db) as s:
        return s.get(Sweep, sweep_id).status

