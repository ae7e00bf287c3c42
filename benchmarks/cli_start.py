"""How long CLI commands take from start to exit, beside `python -c pass` and `tail` measured in
the same run: `status`, `logs`, the read commands (sessions, session show/trades, agents, agent
show, health, events, data list) and control commands (engine.cli.fast: no ORM, no pandas), and
`sweep list` (an ORM command) for comparison, on a migrated database (SQLite unless --database-url).

Usage: python benchmarks/cli_start.py [--runs N] [--database-url URL]
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, anchor, fresh_env, machine

from engine.config import load_settings
from engine.control import actions as control
from engine.logs import get_logger
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Agent


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
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database")
    args = parser.parse_args()
    env = fresh_env(args.database_url)
    settings = load_settings()
    db = get_engine(settings.database_url)
    migrate(db)
    with session_scope(db) as s:
        s.add(Agent(id="execution", name="Execution", kind="execution"))
    sid = str(control.create_session(db, {"name": "bench", "symbols": "BTC-USD",
                                          "strategy": "ma_crossover"}).id)
    log = get_logger(settings.logs_dir, "engine", pin=True)
    for i in range(5000):
        log.info("line %d of the engine log", i)
    log_file = Path(settings.logs_dir) / "engine.log"
    engine_cli = [sys.executable, "-m", "engine"]
    commands = {
        "python -m engine status": ["status"],
        "python -m engine logs engine --lines 100": ["logs", "engine", "--lines", "100"],
        "python -m engine agent config … (queue a command)":
            ["agent", "config", "execution", "alert_drawdown_pct=12"],
        "python -m engine session speed ID 10 (queue a command)": ["session", "speed", sid, "10"],
        "python -m engine sessions": ["sessions"],
        "python -m engine session show ID": ["session", "show", sid],
        "python -m engine session trades ID": ["session", "trades", sid],
        "python -m engine agents": ["agents"],
        "python -m engine agent show execution": ["agent", "show", "execution"],
        "python -m engine health": ["health"],
        "python -m engine events": ["events"],
        "python -m engine data list": ["data", "list"],
        "python -m engine sweep list (ORM path, for comparison)": ["sweep", "list"],
    }
    figures = {
        "python -c pass": timed([sys.executable, "-c", "pass"], env, args.runs),
        "tail -n 100 engine.log": timed(["tail", "-n", "100", str(log_file)], env, args.runs),
        **{name: timed([*engine_cli, *words], env, args.runs)
           for name, words in commands.items()},
    }
    print(f"machine: {machine()}")
    print(anchor())
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"median of {args.runs} runs each, start to exit:")
    for name, ms in figures.items():
        print(f"  {name:<56} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
