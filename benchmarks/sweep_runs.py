"""The runs benchmarks/sweep.py times: a sweep by the runner on a fresh database, backtesting.py's
`optimize` on the same grid, and a sweep on the job queue of engine workers."""

import os
import signal
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from typing import NamedTuple

from common import start_engine, wait_for
from sqlmodel import Session

from engine.control import sweeps
from engine.market import catalog
from engine.market.replay import load_shipped
from engine.reads.fleet import workers
from engine.store.db import get_engine, migrate
from engine.store.models import Sweep
from engine.sweeps.runner import run_sweep

SYMBOL, TIMEFRAME = "BTC-USD", "1h"


class Timed(NamedTuple):
    """One timed sweep: its throughput and its CPU a variant (less sensitive to a shared
    machine's load than the wall clock)."""

    rate: float  # variants per second, wall clock
    cpu_ms: float  # CPU a variant, this process and its pool processes, in ms


def cpu_s() -> float:
    """CPU seconds (user and system) of this process and of its children ended so far."""
    return sum(r.ru_utime + r.ru_stime for r in (getrusage(RUSAGE_SELF),
                                                  getrusage(RUSAGE_CHILDREN)))


def create(url: str, variants: int) -> tuple:
    """A stored-bars database and a queued sweep of `variants` variants; (engine, sweep id)."""
    db = get_engine(url)
    migrate(db)
    load_shipped(db, SYMBOL, TIMEFRAME)
    first, last, _ = catalog.span(SYMBOL, TIMEFRAME)
    created = sweeps.create_sweep(db, {
        "strategy": "ma_crossover", "symbols": SYMBOL, "timeframe": TIMEFRAME,
        "from": first.isoformat(), "to": last.isoformat(),
        "grid": {"fast": f"2:{variants + 1}:1", "slow": "60"}})
    return db, created.id


def one_run(url: str, variants: int, processes: int) -> Timed:
    """One sweep of `variants` variants on `processes` processes, timed."""
    db, sweep_id = create(url, variants)
    cpu, began = cpu_s(), time.perf_counter()
    status = run_sweep(db, sweep_id, workers=processes)  # its pool has ended on return
    elapsed = time.perf_counter() - began
    if status != "completed":
        raise SystemExit(f"sweep {sweep_id} ended {status}")
    return Timed(variants / elapsed, (cpu_s() - cpu) * 1000 / variants)


def bt_optimize(variants: int, processes: int) -> Timed:
    """backtesting.py's `optimize` over the same grid (fast 2…, slow 60) and bars, on
    `processes` pool processes (its default fork pool), nothing stored, timed."""
    # imported here: benchmarks/sweep_memory.py imports this module, and its spawned pool
    # processes would otherwise load backtesting.py and pandas too
    import backtesting
    from backtesting.lib import FractionalBacktest
    from fast_forward import CASH, FEE_BPS, SLIPPAGE_BPS, SmaCross, bt_frame

    backtesting.Pool = lambda _=None, initializer=None, initargs=(): get_context("fork").Pool(
        processes, initializer, initargs)
    bt = FractionalBacktest(bt_frame(), SmaCross, cash=CASH, commission=FEE_BPS / 10_000,
                            spread=SLIPPAGE_BPS / 10_000, finalize_trades=True)
    cpu, began = cpu_s(), time.perf_counter()
    bt.optimize(fast=list(range(2, variants + 2)), slow=[60], maximize="Return [%]")
    elapsed = time.perf_counter() - began  # its pool has ended on return
    return Timed(variants / elapsed, (cpu_s() - cpu) * 1000 / variants)


def queue_run(url: str, variants: int, engines: int, processes: int) -> float:
    """Variants per second of one sweep on the job queue of `engines` engine workers."""
    db = get_engine(url)
    procs = []
    for _ in range(engines):
        home = Path(tempfile.mkdtemp(prefix="paperdesk-sweep-worker-"))
        env = {**os.environ, "DATABASE_URL": url, "PAPERDESK_HOME": str(home),
               "PAPERDESK_AUTOSTART": "0", "PAPERDESK_INITIAL_STATE": "stopped",
               "PAPERDESK_JOB_PROCESSES": str(processes)}
        procs.append(start_engine(env, home / "engine.out"))
    try:
        pids = {str(p.pid) for p in procs}
        wait_for(lambda: {w.holder.rsplit(":", 1)[1] for w in workers(db) if w.alive} >= pids,
                 60)
        _, sweep_id = create(url, variants)
        began = time.perf_counter()
        status = wait_for(lambda: _finished(db, sweep_id), 600, poll=0.05)
        elapsed = time.perf_counter() - began
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
    if status != "completed":
        raise SystemExit(f"sweep {sweep_id} ended {status}")
    return variants / elapsed


def _finished(db, sweep_id: int) -> str | None:
    with Session(db) as s:
        status = s.get(Sweep, sweep_id).status
    return None if status in ("queued", "running") else status
