"""The engine side of sweeps: claim a queued sweep, run its variants in a local process pool
(engine.sweep_variant, one variant a task) and write each finished variant as a completed
session — orders, fills, equity snapshots, account, positions, its figures and the sweep's
progress — in ONE transaction, so a cancel, a stop or a crash leaves only whole variants.

The runner works outside the per-bar tick path (its own scheduler job and thread in the engine
process; the pool's processes do the computing). A sweep left `running` by an engine that died
(no heartbeat for STALE_S) is resumed: the variants already written are skipped.
"""

import os
import socket
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import timedelta
from multiprocessing import get_context

from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session

from engine.core.settings import TradeSettings
from engine.core.trader import Trader
from engine.db import session_scope
from engine.db_types import utcnow
from engine.lifecycle import SessionStatus, SweepStatus
from engine.models import PaperSession, Sweep, SweepVariant
from engine.sweep_spec import base_fields, variant_fields, variants
from engine.sweep_variant import VariantRun, init, run_variant
from engine.sweeps import move
from engine.trading.series import BarCache
from engine.trading.store import Batch, write_batches

STALE_S = 30.0  # a running sweep whose runner has been silent this long is taken over
POLL_S = 0.5  # how often a running sweep checks for cancel and beats its heartbeat


class SweepRunner:
    """Runs queued sweeps one at a time: `tick` from a scheduler job, `stop` at shutdown."""

    def __init__(self, db: Engine, logger=None, workers: int | None = None):
        self.db = db
        self.logger = logger
        self.workers = workers or os.cpu_count() or 1
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Stop the running sweep after the variant being written (it resumes on restart)."""
        self.stopping.set()

    def tick(self) -> None:
        """Run every sweep waiting for an engine, oldest first, until none is left."""
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
                move(s, sweep, "start", note=f"on {self.holder}, {self.workers} processes",
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
            with session_scope(self.db) as s:
                move(s, s.get(Sweep, sweep_id), "fail", note=f"{type(exc).__name__}: {exc}",
                     logger=self.logger)
            raise
        return True

    def _run(self, plan: "_Plan") -> None:
        remaining = plan.remaining()
        with ProcessPoolExecutor(min(self.workers, max(1, len(remaining))),
                                 mp_context=get_context("spawn"), initializer=init,
                                 initargs=(plan.series,)) as pool:
            pending: set[Future] = {
                pool.submit(run_variant, idx, settings, plan.start, plan.end, plan.split)
                for idx, settings in remaining}
            while pending and not self._halted(plan.id):
                finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: f.result().idx):
                    if not plan.write(future.result(), self.holder):
                        break
                self._beat(plan.id)
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
        """Complete the sweep when every variant is written; cancel it when asked to."""
        with session_scope(self.db) as s:
            sweep = s.get(Sweep, sweep_id)
            if sweep.runner != self.holder or sweep.status != SweepStatus.RUNNING:
                return
            if sweep.done >= sweep.total:
                move(s, sweep, "complete", note=f"{sweep.done} variants", logger=self.logger)
            elif sweep.cancel_requested:
                move(s, sweep, "cancel", note=f"{sweep.done} of {sweep.total} variants kept",
                     logger=self.logger)


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

    def remaining(self) -> list[tuple[int, TradeSettings]]:
        out = []
        for idx, values in enumerate(self.values):
            if idx in self.done:
                continue
            fields = variant_fields(self.base, self.session, values) | {
                "name": f"{self.name} #{idx + 1}"[:100]}
            self.fields[idx] = fields
            out.append((idx, TradeSettings.of(_Row(fields))))
        return out

    def write(self, run: VariantRun, holder: str) -> bool:
        """Write one finished variant in one transaction; False when the sweep was cancelled
        or taken over meanwhile (nothing is written then)."""
        now = utcnow()
        with session_scope(self.db) as s:
            locked = s.get_bind().dialect.name == "postgresql"
            sweep = s.get(Sweep, self.id, with_for_update=locked)
            if sweep.cancel_requested or sweep.runner != holder:
                return False
            row = PaperSession(**self.fields[run.idx], status=SessionStatus.COMPLETED,
                               sweep_id=self.id, started_at=now, stopped_at=now)
            s.add(row)
            s.flush()
            trader = Trader(run.settings, run.account, run.ledger)
            write_batches(s, [Batch(row.id, trader, run.out, complete=True)], self.cache.stored)
            s.add(SweepVariant(sweep_id=self.id, idx=run.idx, session_id=row.id,
                               values=self.values[run.idx], **run.figures))
            sweep.done += 1
            sweep.heartbeat_at = now
            s.add(sweep)
        return True


class _Row:
    """Attribute access to session fields (what TradeSettings.of reads)."""

    def __init__(self, fields: dict):
        self.__dict__.update(fields)


def run_sweep(db: Engine, sweep_id: int, workers: int | None = None) -> str:
    """Run one queued sweep to its end in this process (tests and benchmarks; the engine's
    runner does the same); return its final status."""
    runner = SweepRunner(db, workers=workers)
    if runner.claim() != sweep_id:
        raise RuntimeError(f"sweep {sweep_id} is not the oldest waiting sweep")
    runner.run(sweep_id)
    with Session(db) as s:
        return s.get(Sweep, sweep_id).status

