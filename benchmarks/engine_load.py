"""Load one engine process with N running sessions at one tick a second; print tick p95 per
agent and the control-command latency p95.

Usage: python benchmarks/engine_load.py [--sessions 1000] [--seconds 60] [--database-url URL]
"""

import argparse
import itertools
import signal
import time
from pathlib import Path

from common import fresh_env, machine, percentile, start_engine, wait_for
from sqlmodel import Session, func, select

from engine import control
from engine.config import load_settings
from engine.db import get_engine, migrate
from engine.lease import lease_info
from engine.models import Agent, Command, Fill, PaperSession

MIX = [  # (symbols, timeframe, strategy)
    ("BTC-USD", "1h", "ma_crossover"), ("BTC-USD", "1h", "rsi_reversion"),
    ("BTC-USD", "1h", "blend"), ("ETH-USD", "1d", "ma_crossover"),
    ("BTC-USD,ETH-USD", "1d", "blend"), ("AAPL", "1d", "rsi_reversion"),
    ("MSFT,IBM", "1d", "ma_crossover"), ("GOOG", "1d", "blend"),
]


def create_sessions(db, n: int) -> list[int]:
    ids = []
    for i, (symbols, timeframe, strategy) in zip(range(n), itertools.cycle(MIX), strict=False):
        ids.append(control.create_session(db, {
            "name": f"load {i}", "symbols": symbols, "timeframe": timeframe,
            "strategy": strategy, "cash": 10_000, "stop_loss_pct": 5}, start=True).id)
    return ids


def command_latencies(db, ids: list[int], count: int) -> list[float]:
    """Pause and resume sessions one command at a time; latency = applied_at − created_at."""
    latencies = []
    for i in range(count):
        sid = ids[i % len(ids)]
        for action in ("pause", "resume"):
            cid = control.session_action(db, sid, action, by="benchmark")
            control.wait_for(db, cid, 5, poll=0.01)
            with Session(db) as s:
                command = s.get(Command, cid)
            latencies.append((command.applied_at - command.created_at).total_seconds() * 1000)
        time.sleep(0.1)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    env = fresh_env(args.database_url)
    settings = load_settings()
    db = get_engine(settings.database_url)
    migrate(db)
    print(f"machine: {machine()}")
    print(f"database: {db.dialect.name}; sessions: {args.sessions}")
    started = time.perf_counter()
    ids = create_sessions(db, args.sessions)
    print(f"created {len(ids)} sessions in {time.perf_counter() - started:.1f}s")
    log = Path(settings.home) / "engine.out"
    proc = start_engine(env, log)
    try:
        wait_for(lambda: lease_info(db).online, 30)

        def all_running():
            with Session(db) as s:
                return s.exec(select(func.count()).select_from(PaperSession).where(
                    PaperSession.status == "running")).one() == len(ids)

        wait_for(all_running, 60)
        time.sleep(args.seconds)
        latencies = command_latencies(db, ids, args.commands)
        with Session(db) as s:
            agents = {a.id: a for a in s.exec(select(Agent))}
            fills = s.exec(select(func.count()).select_from(Fill)).one()
        print(f"after {args.seconds:.0f}s at one tick a second: {fills} fills")
        total = 0.0
        for agent_id, agent in agents.items():
            p95 = agent.summary.get("tick_p95_ms")
            total += p95 or 0
            print(f"  {agent_id:<12} ticks {agent.ticks:>5}  last {agent.last_tick_ms:7.1f} ms"
                  f"  p95 {p95 if p95 is not None else float('nan'):7.1f} ms")
        print(f"  sum of agent tick p95s: {total:.1f} ms (target < 250 ms per tick)")
        print(f"command latency over {len(latencies)} commands: p50 "
              f"{percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
              f"max {max(latencies):.0f} ms (target p95 < 250 ms, max 500 ms)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
