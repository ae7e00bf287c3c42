"""Sweep throughput: variants per second of the SMA crossover over every hourly BTC bar
(20,111 bars), each variant run by the per-bar core in a process pool and written as a
completed session (orders, fills, its equity curve at display resolution, account) in one
transaction — on 1 process and on all cores, beside backtesting.py's `optimize` over the same
grid and bars on as many processes, the machine and the reference-loop anchor, all measured in
the same run. Every run gets a fresh SQLite database (or --database-url).

With a PostgreSQL --database-url it also times the job queue (engine.fleet.jobs): 1 and then 2
`python -m engine run` workers (system stopped, so only the sweep runs; each with half the
cores as pool processes, so 2 workers fill the machine), from the sweep's creation until the
worker that writes its last variant completes it.

Usage: python benchmarks/sweep.py [--variants 16] [--database-url URL]
"""

import argparse
import os
import tempfile
import warnings
from pathlib import Path

from common import anchor, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=16)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    # imported here: the runner's pool processes are spawned, and a spawned process imports the
    # main module (this file) first; the engine's own pool processes (python -m engine) import
    # none, and so stay lean: the pure core and the bars
    from sweep_runs import bt_optimize, one_run, queue_run

    warnings.filterwarnings("ignore", module="backtesting")
    home = Path(tempfile.mkdtemp(prefix="paperdesk-sweep-"))
    print(machine())
    print(anchor())
    cores = os.cpu_count() or 1
    for processes in sorted({1, cores}):
        url = args.database_url or f"sqlite:///{home / f'sweep-{processes}.db'}"
        rate = one_run(url, args.variants, processes)
        theirs = bt_optimize(args.variants, processes)
        on = f"on {processes} process{'es' if processes > 1 else ''}"
        print(f"{args.variants} variants × 20,111 bars {on}: {rate:.2f} variants/s "
              f"({rate * 20_111:,.0f} bars/s, stored); backtesting.py optimize {on}: "
              f"{theirs:.2f} variants/s (nothing stored); ratio {rate / theirs:.2f}x")
    if args.database_url and args.database_url.startswith("postgresql"):
        processes = max(1, cores // 2)
        for engines in (1, 2):
            rate = queue_run(args.database_url, args.variants, engines, processes)
            print(f"{args.variants} variants × 20,111 bars on the job queue, {engines} engine "
                  f"worker{'s' if engines > 1 else ''} × {processes} process"
                  f"{'es' if processes > 1 else ''}: {rate:.2f} variants/s "
                  f"({rate * 20_111:,.0f} bars/s, stored)")
    print(anchor())


if __name__ == "__main__":
    main()
