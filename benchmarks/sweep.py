"""Sweep throughput: variants per second of the SMA crossover over every hourly BTC bar
(20,111 bars), each variant run by the per-bar core in a process pool and written as a
completed session (orders, fills, one equity snapshot a bar, account) in one transaction —
on 1 process and on all cores, beside the machine and the reference-loop anchor measured in
the same run. Every run gets a fresh SQLite database (or --database-url).

Usage: python benchmarks/sweep.py [--variants 16] [--database-url URL]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import anchor, machine

from engine import catalog, sweeps
from engine.db import get_engine, migrate
from engine.market.replay import load_shipped
from engine.sweep_runner import run_sweep

SYMBOL, TIMEFRAME = "BTC-USD", "1h"


def one_run(url: str, variants: int, workers: int) -> float:
    """Variants per second of one sweep of `variants` variants on `workers` processes."""
    db = get_engine(url)
    migrate(db)
    load_shipped(db, SYMBOL, TIMEFRAME)
    first, last, _ = catalog.span(SYMBOL, TIMEFRAME)
    created = sweeps.create_sweep(db, {
        "strategy": "ma_crossover", "symbols": SYMBOL, "timeframe": TIMEFRAME,
        "from": first.isoformat(), "to": last.isoformat(),
        "grid": {"fast": f"2:{variants + 1}:1", "slow": "60"}})
    began = time.perf_counter()
    status = run_sweep(db, created.id, workers=workers)
    elapsed = time.perf_counter() - began
    if status != "completed":
        raise SystemExit(f"sweep {created.id} ended {status}")
    return variants / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=16)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="paperdesk-sweep-"))
    print(machine())
    print(anchor())
    cores = os.cpu_count() or 1
    for workers in sorted({1, cores}):
        url = args.database_url or f"sqlite:///{home / f'sweep-{workers}.db'}"
        rate = one_run(url, args.variants, workers)
        print(f"{args.variants} variants × 20,111 bars on {workers} process"
              f"{'es' if workers > 1 else ''}: {rate:.2f} variants/s "
              f"({rate * 20_111:,.0f} bars/s, stored)")
    print(anchor())


if __name__ == "__main__":
    main()
