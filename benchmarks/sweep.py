"""Sweep throughput: variants per second of the SMA crossover over every hourly BTC bar
(20,111 bars), each variant run by the per-bar core in a process pool and written as a
completed session (orders, fills, its equity curve at display resolution, account) in one
transaction — on 1 process and on all cores, beside backtesting.py's `optimize` over the same
grid and bars on as many processes, the machine and the reference-loop anchor, all measured in
the same run. Each figure is the best of --runs runs, ours and backtesting.py's interleaved (the
median in brackets), with the least CPU a variant took (this process and its pool processes,
user and system: less sensitive than the wall clock to a shared machine's load). Every run gets
a fresh SQLite database (or --database-url).

With a PostgreSQL --database-url it also times the job queue (engine.fleet.jobs): 1 and then 2
`python -m engine run` workers (system stopped, so only the sweep runs; each with half the
cores as pool processes, so 2 workers fill the machine), from the sweep's creation until the
worker that writes its last variant completes it.

Usage: python benchmarks/sweep.py [--variants 16] [--runs 3] [--database-url URL]
"""

import argparse
import os
import tempfile
import warnings
from pathlib import Path
from statistics import median

from common import anchor, machine


def _figures(runs: list) -> str:
    """Best and median throughput, and the least CPU a variant, of timed runs."""
    best = max(run.rate for run in runs)
    return (f"{best:.2f} variants/s ({best * 20_111:,.0f} bars/s) "
            f"[{median(run.rate for run in runs):.2f}], "
            f"{min(run.cpu_ms for run in runs):.0f} ms CPU a variant")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=16)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (best is reported)")
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
        ours, theirs = [], []
        for run in range(args.runs):  # interleaved, so a busy moment hits both
            url = args.database_url or f"sqlite:///{home / f'sweep-{processes}-{run}.db'}"
            ours.append(one_run(url, args.variants, processes))
            theirs.append(bt_optimize(args.variants, processes))
        print(f"{args.variants} variants × 20,111 bars on {processes} "
              f"process{'es' if processes > 1 else ''}, best of {args.runs} [median]: ours "
              f"{_figures(ours)} (stored); backtesting.py optimize {_figures(theirs)} (nothing "
              f"stored); ratio {max(ours).rate / max(theirs).rate:.2f}x "
              f"[{median(t.rate for t in ours) / median(t.rate for t in theirs):.2f}x], "
              f"CPU a variant {min(t.cpu_ms for t in theirs) / min(t.cpu_ms for t in ours):.2f}x "
              f"less")
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
