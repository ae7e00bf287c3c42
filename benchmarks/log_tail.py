"""Time the last 100 lines of a 200 MB log (plain, with a level filter, with a text search).

Usage: python benchmarks/log_tail.py [--megabytes 200]
"""

import argparse
import tempfile
import time
from pathlib import Path

from common import machine, percentile

from engine.log_files import tail

LINE = "2026-11-25T10:00:00.000Z INFO     session 12: bought 0.0123 BTC-USD @ 8,051.0000 ({i})\n"
WARN = "2026-11-25T10:00:00.000Z WARNING  alert: session 12 drawdown 10.2% ({i})\n"


def make_log(path: Path, megabytes: int) -> int:
    target, written, i = megabytes * 2**20, 0, 0
    with path.open("w") as fh:
        while written < target:
            chunk = "".join((WARN if (i + k) % 500 == 0 else LINE).format(i=i + k)
                            for k in range(10_000))
            fh.write(chunk)
            written += len(chunk)
            i += 10_000
    return written


def timed(fn, runs: int = 30) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50), percentile(times, 95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        size = make_log(logs / "strategy.log", args.megabytes)
        print(f"machine: {machine()}")
        print(f"log file: {size / 2**20:.0f} MiB")
        for label, kwargs in (("last 100 lines", {}),
                              ("last 100 WARNING+ lines", {"level": "WARNING"}),
                              ("last 100 lines containing 'drawdown'", {"grep": "drawdown"})):
            result = tail(logs, "strategy", lines=100, **kwargs)
            p50, p95 = timed(lambda kw=kwargs: tail(logs, "strategy", lines=100, **kw))
            print(f"{label:<40} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
                  f"(read {result.scanned_bytes / 2**10:.0f} KiB of the file)")


if __name__ == "__main__":
    main()
