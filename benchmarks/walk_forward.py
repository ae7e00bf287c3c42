"""Walk-forward throughput: a 100-variant grid of the SMA crossover over every hourly BTC bar
(20,111 bars) as a walk-forward sweep of 10 rolling folds, timed beside a single sweep of the
same grid in the same run (the machine and the reference-loop anchor printed with them). Each
gets a fresh SQLite database and the local pool on every core.

The walk-forward sweep runs the same 100 variants over the whole window (written as sessions,
as a single sweep does), then per fold replays each variant on the fold's train bars and its
choice on the test bars (each written as a completed session): its extra cost is the training,
folds × variants × train bars of replay.

Usage: python benchmarks/walk_forward.py [--variants 100] [--folds 10]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import anchor, machine

from engine.control import sweeps
from engine.market import catalog
from engine.market.replay import load_shipped
from engine.reads.walk_forward import walk_forward
from engine.store.db import get_engine, migrate
from engine.sweeps.runner import run_sweep

SYMBOL, TIMEFRAME = "BTC-USD", "1h"
SLOWS = (40, 60, 80, 100, 120)


def grid(variants: int) -> dict:
    """fast 2, 3, … × the SLOWS: `variants` variants (a multiple of 5)."""
    fasts = max(1, variants // len(SLOWS))
    return {"fast": f"2:{fasts + 1}:1", "slow": ",".join(map(str, SLOWS))}


def layout(bars: int, folds: int) -> str:
    """Rolling folds that test the last half of the bars in `folds` equal segments."""
    test = bars // 2 // folds
    return f"train={bars - folds * test},test={test}"


def timed(url: str, variants: int, walk: str | None) -> tuple[float, int]:
    """Seconds to run one sweep (walk-forward with `walk`) to its end, and its variants."""
    db = get_engine(url)
    migrate(db)
    load_shipped(db, SYMBOL, TIMEFRAME)
    first, last, _ = catalog.span(SYMBOL, TIMEFRAME)
    spec = {"strategy": "ma_crossover", "symbols": SYMBOL, "timeframe": TIMEFRAME,
            "from": first.isoformat(), "to": last.isoformat(), "grid": grid(variants)}
    if walk:
        spec |= {"walk_forward": walk, "objective": "sharpe"}
    created = sweeps.create_sweep(db, spec)
    began = time.perf_counter()
    status = run_sweep(db, created.id, workers=os.cpu_count())
    elapsed = time.perf_counter() - began
    if status != "completed":
        raise SystemExit(f"sweep {created.id} ended {status}")
    if walk:
        result = walk_forward(db, created.id)
        print(f"  {len(result.folds)} folds; out of sample {result.out_sample_pct:+.2f}%, "
              f"buy & hold {result.buy_hold_pct:+.2f}%, efficiency "
              f"{'—' if result.efficiency is None else f'{result.efficiency:.2f}'}")
    return elapsed, created.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="paperdesk-walk-"))
    bars = catalog.span(SYMBOL, TIMEFRAME)[2]
    walk = layout(bars, args.folds)
    print(machine())
    print(anchor())
    single, _ = timed(f"sqlite:///{home / 'single.db'}", args.variants, None)
    print(f"single sweep: {args.variants} variants × {bars:,} bars on {os.cpu_count()} "
          f"processes: {single:.1f} s")
    walked, _ = timed(f"sqlite:///{home / 'walk.db'}", args.variants, walk)
    train = int(walk.split(",")[0].split("=")[1])
    print(f"walk-forward sweep ({walk}, {args.folds} folds): {walked:.1f} s = "
          f"{walked / single:.1f} × the single sweep (it adds {args.folds} × "
          f"{args.variants} train runs of {train:,} bars and {args.folds} test runs)")
    print(anchor())


if __name__ == "__main__":
    main()
