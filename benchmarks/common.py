"""Helpers the benchmarks share: a throwaway PaperDesk home, the machine, percentiles."""

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    mem = psutil.virtual_memory().total / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def anchor(runs: int = 5) -> str:
    """A fixed pure-Python workload timed now (best of `runs`), with the load average: on a
    shared machine, compare a figure with the anchor measured in the same run."""
    values = [float((i * 7919) % 1000) for i in range(200_000)]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        window, total, prev, crosses = deque(maxlen=30), 0.0, 0.0, 0
        for v in values:  # a rolling mean and a sign change per value, like a per-bar loop
            if len(window) == 30:
                total -= window[0]
            window.append(v)
            total += v
            diff = v - total / len(window)
            crosses += (prev <= 0 < diff)
            prev = diff
        best = min(best, time.perf_counter() - start)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"anchor: reference loop (200,000 steps of pure Python) {best * 1000:.0f} ms, best "
            f"of {runs}; load average {load}")


def fresh_env(database_url: str | None = None) -> dict:
    home = tempfile.mkdtemp(prefix="paperdesk-bench-")
    env = {**os.environ, "PAPERDESK_HOME": home, "PAPERDESK_AUTOSTART": "0"}
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("PAPERDESK", "DATABASE"))})
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
    return env


def store_shipped(db) -> int:
    """Store every shipped dataset as the market data agent does; return the bars stored."""
    from engine.market import catalog
    from engine.market.replay import load_shipped

    return sum(load_shipped(db, *key)[0] for key in catalog.datasets())


def percentile(values: list[float], pct: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def start_engine(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine", "run"], env=env, cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_for(predicate, timeout: float, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError("benchmark condition not reached")
