"""Importing a 1,000,000-row CSV (`data import`: read, check every row, store in one
transaction) beside `pandas.read_csv` of the same file, in the same run.

The file is hourly OHLCV bars of a seeded random walk, times without a zone (as most exports
write them). Each figure runs in a child process of its own, so its peak memory (ru_maxrss)
is its own: reported as the peak and as the growth above the child's size once its modules are
imported. The import goes to a fresh SQLite database.

Usage: python benchmarks/data_import.py [--rows 1000000] [--runs 1]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, anchor, fresh_env, machine


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_csv(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(17)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    opens = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.004, rows)) * close
    frame = pd.DataFrame({
        "timestamp": pd.date_range("1990-01-01", periods=rows, freq="h").strftime(
            "%Y-%m-%d %H:%M:%S"),
        "open": opens.round(4), "high": (np.maximum(opens, close) + spread).round(4),
        "low": (np.minimum(opens, close) - spread).round(4), "close": close.round(4),
        "volume": rng.integers(1, 10_000, rows)})
    frame.to_csv(path, index=False)


def child(kind: str, path: str, rows: int) -> None:
    """One measurement, printed as JSON: seconds, peak MiB, MiB once imported, rows. (Linux
    keeps a process's peak memory across exec: each step, the file's writing included, runs
    in a child of a parent that stays small.)"""
    import pandas as pd

    if kind == "write":
        write_csv(Path(path), rows)
        return
    if kind == "import":
        fresh_env()
        from engine.config import load_settings
        from engine.control.datasets import import_path
        from engine.store.db import get_engine, migrate

        db = get_engine(load_settings().database_url)
        migrate(db)
    base = _peak_mib()
    start = time.perf_counter()
    if kind == "import":
        rows = import_path(db, path, "BENCH", "1h", "crypto", False, "bench").dataset.rows
    else:
        rows = len(pd.read_csv(path))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak": _peak_mib(), "base": base, "rows": rows}))


def measure(kind: str, path: Path, rows: int) -> dict | None:
    out = subprocess.run([sys.executable, __file__, "--rows", str(rows), "--child", kind,
                          str(path)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.rows)
        return
    print(machine())
    print(anchor())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bars.csv"
        measure("write", path, args.rows)
        print(f"file: {args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB CSV")
        best: dict[str, dict] = {}
        for _ in range(args.runs):
            for kind in ("read_csv", "import"):
                result = measure(kind, path, args.rows)
                if kind not in best or result["seconds"] < best[kind]["seconds"]:
                    best[kind] = result
    for kind, label in (("read_csv", "pandas.read_csv"), ("import", "data import (SQLite)")):
        r = best[kind]
        print(f"{label:22s} {r['rows']:,} rows in {r['seconds']:.2f} s "
              f"({r['rows'] / r['seconds']:,.0f} rows/s); peak memory {r['peak']:.0f} MiB "
              f"(+{r['peak'] - r['base']:.0f} MiB above {r['base']:.0f} MiB once imported); "
              f"best of {args.runs}")
    ratio = best["import"]["seconds"] / best["read_csv"]["seconds"]
    print(f"import / read_csv time: {ratio:.1f}×")


if __name__ == "__main__":
    main()
