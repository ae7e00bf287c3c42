"""Sweep memory: resident memory (this process, which runs and writes the sweep as the engine's
runner does, plus its pool processes) before, at its peak during, and after a sweep of the SMA
crossover over every hourly BTC bar (20,111 bars) — with the runner's bound on variants in
flight, and beside it, in the same run, the same sweep with every variant submitted at once (how
the runner worked before issue 21). Each sweep runs in a fresh process on a fresh SQLite database.

Usage: python benchmarks/sweep_memory.py [--variants 60] [--processes 2]
"""

import argparse
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from common import anchor, machine
from sweep_runs import create

from engine.sweeps import runner
from engine.sweeps.in_flight import IN_FLIGHT

SAMPLE_S = 0.05


def rss_mb() -> tuple[float, float]:
    """Resident memory of this process and of its children, in MB."""
    me = psutil.Process()
    children = 0
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            children += child.memory_info().rss
    return me.memory_info().rss / 2**20, children / 2**20


def measured(url: str, variants: int, processes: int) -> tuple[float, list, float, float]:
    """Resident MB before, at its peak during (total, this process, the pool's processes) and
    after one sweep, and its variants/s."""
    db, sweep_id = create(url, variants)
    before, peak, done = sum(rss_mb()), [0.0, 0.0, 0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            parent, children = rss_mb()
            peak[:] = max(peak[0], parent + children), max(peak[1], parent), max(peak[2],
                                                                                 children)
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    status = runner.run_sweep(db, sweep_id, workers=processes)
    elapsed = time.perf_counter() - began
    done.set()
    sampler.join()
    if status != "completed":
        raise SystemExit(f"sweep {sweep_id} ended {status}")
    db.dispose()
    return before, peak, sum(rss_mb()), variants / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--in-flight", type=int, help="run one sweep with this bound (each "
                        "configuration runs in a fresh process of its own)")
    args = parser.parse_args()
    if args.in_flight:
        runner.IN_FLIGHT = args.in_flight
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='paperdesk-sweep-memory-')) / 's.db'}"
        before, peak, after, rate = measured(url, args.variants, args.processes)
        print(f"RSS before {before:.0f} MB, peak during {peak[0]:.0f} MB (runner {peak[1]:.0f}"
              f", pool {peak[2]:.0f}), after {after:.0f} MB; {rate:.2f} variants/s")
        return
    print(machine())
    print(anchor())
    for label, bound in ((f"{IN_FLIGHT} in flight per process", IN_FLIGHT),
                         ("all submitted at once (anchor)", args.variants)):
        line = subprocess.run([sys.executable, __file__, "--variants", str(args.variants),
                               "--processes", str(args.processes), "--in-flight", str(bound)],
                              capture_output=True, text=True, check=True).stdout.strip()
        print(f"{args.variants} variants × 20,111 bars on {args.processes} processes, "
              f"{label}: {line}")
    print(anchor())


if __name__ == "__main__":
    main()
