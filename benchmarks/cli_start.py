"""How long CLI commands take from start to exit, beside `python -c pass` and `tail` measured in
the same run: `status`, `logs` and a control command on a migrated SQLite database.

Usage: python benchmarks/cli_start.py [--runs N]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, fresh_env, machine

from engine.config import load_settings
from engine.db import get_engine, migrate, session_scope
from engine.logs import get_logger
from engine.models import Agent


def timed(cmd: list[str], env: dict, runs: int) -> float:
    """Median wall time of `cmd` in milliseconds (it must exit 0)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = fresh_env()
    settings = load_settings()
    db = get_engine(settings.database_url)
    migrate(db)
    with session_scope(db) as s:
        s.add(Agent(id="execution", name="Execution", kind="execution"))
    engine_cli = [sys.executable, "-m", "engine"]
    subprocess.run([*engine_cli, "status"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = get_logger(settings.logs_dir, "engine", pin=True)
    for i in range(5000):
        log.info("line %d of the engine log", i)
    log_file = Path(settings.logs_dir) / "engine.log"
    figures = {
        "python -c pass": timed([sys.executable, "-c", "pass"], env, args.runs),
        "tail -n 100 engine.log": timed(["tail", "-n", "100", str(log_file)], env, args.runs),
        "python -m engine status": timed([*engine_cli, "status"], env, args.runs),
        "python -m engine logs engine --lines 100": timed(
            [*engine_cli, "logs", "engine", "--lines", "100"], env, args.runs),
        "python -m engine agent config … (queue a command)": timed(
            [*engine_cli, "agent", "config", "execution", "alert_drawdown_pct=12"], env,
            args.runs),
    }
    print(f"machine: {machine()}")
    print(f"median of {args.runs} runs each, start to exit:")
    for name, ms in figures.items():
        print(f"  {name:<52} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
