"""Load one engine process (`python -m engine run`) with N running replay sessions, each
trading one bar a second on its own clock; print the tick p95 per agent (from the agents'
summaries, which include the start-up ticks, and a steady-state p95 of the ticks sampled after
--settle seconds) and the control-command latency p95 and max; on SQLite the engine's RSS and
the size of the database's write-ahead log file at the end.

The shipped bars are stored before the engine starts (as the market data agent would on its
first tick), and every session's replay window starts at its data's first bar, so it lasts far
longer than the run (the shortest window is printed; 788 bars, for BTC-USD + ETH-USD daily).

With --workers N (PostgreSQL) N engine processes share the sessions (engine.fleet.workers); it
prints each worker's sessions and tick p95 (the sum of its agents' p95s over their last 200 ticks).

Usage: python benchmarks/engine_load.py [--sessions 1000] [--seconds 60] [--commands 100]
       [--settle 15] [--stagger BARS] [--database-url URL] [--workers N]
"""

import argparse
import itertools
import signal
import time
from datetime import timedelta
from pathlib import Path

import psutil
from common import anchor, fresh_env, machine, percentile, start_engine, store_shipped, wait_for
from sqlmodel import Session, func, select

from engine.config import load_settings
from engine.control import actions as control
from engine.market import catalog
from engine.reads.fleet import lease_info, unowned_running, workers
from engine.store.db import get_engine, migrate, sqlite_path
from engine.store.models import Agent, Command, EquitySnapshot, Fill, PaperSession

MIX = [  # (symbols, timeframe, strategy)
    ("BTC-USD", "1h", "ma_crossover"), ("BTC-USD", "1h", "rsi_reversion"),
    ("BTC-USD", "1h", "blend"), ("ETH-USD", "1d", "ma_crossover"),
    ("BTC-USD,ETH-USD", "1d", "blend"), ("AAPL", "1d", "rsi_reversion"),
    ("MSFT,IBM", "1d", "ma_crossover"), ("GOOG", "1d", "blend"),
]


def window_from(symbols: str, timeframe: str, later: int = 0) -> str:
    """The first bar time every symbol has (the longest replay window there is), or `later`
    bar intervals after it."""
    first = max(catalog.span(s, timeframe)[0] for s in symbols.split(","))
    return (first + later * timedelta(seconds=catalog.TIMEFRAMES[timeframe])).isoformat()


def create_sessions(db, n: int, stagger: int = 0) -> tuple[list[int], int]:
    """Create and start n sessions at 1 bar/s; return their ids and the shortest window. The
    MIX repeats every len(MIX) sessions: identical sessions trade on the same tick unless
    `stagger` starts each repeat's window a further bar later, up to `stagger` bars."""
    ids = []
    for i, (symbols, timeframe, strategy) in zip(range(n), itertools.cycle(MIX), strict=False):
        later = (i // len(MIX)) % stagger if stagger else 0
        created = control.create_session(db, {
            "name": f"load {i}", "symbols": symbols, "timeframe": timeframe,
            "strategy": strategy, "cash": 10_000, "stop_loss_pct": 5, "speed": "1",
            "from": window_from(symbols, timeframe, later), "to": None}, start=True)
        ids.append(created.id)
    with Session(db) as s:
        shortest = s.exec(select(func.min(PaperSession.bars_total))).one()
    return ids, shortest


def command_latencies(db, ids: list[int], count: int) -> list[float]:
    """Pause and resume sessions one command at a time; latency = applied_at − created_at."""
    latencies = []
    for i in range(count):
        sid = ids[i % len(ids)]
        for action in ("pause", "resume"):
            outcome = control.session_action(db, sid, action, by="benchmark")
            control.wait_for(db, outcome, 5, poll=0.01)
            with Session(db) as s:
                command = s.get(Command, outcome.command)
            latencies.append((command.applied_at - command.created_at).total_seconds() * 1000)
        time.sleep(0.1)
    return latencies


def sample_ticks(db, seconds: float, settle: float) -> dict[str, list[float]]:
    """Watch the agents' rows for `seconds`; after the first `settle` seconds, keep each new
    tick's duration (last_tick_ms whenever the tick count moved): the steady state, without
    the start-up ticks that stay in the agents' own p95 window (their last 200 ticks)."""
    samples: dict[str, list[float]] = {}
    seen: dict[str, int] = {}
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        with Session(db) as s:
            rows = s.exec(select(Agent.id, Agent.ticks, Agent.last_tick_ms)).all()
        for agent_id, ticks, last_ms in rows:
            if agent_id in seen and ticks != seen[agent_id] and elapsed >= settle:
                samples.setdefault(agent_id, []).append(last_ms)
            seen[agent_id] = ticks
        time.sleep(0.2)
    return samples


def fleet_ready(db, n: int) -> bool:
    """All `n` workers alive and every running session owned by one of them."""
    live = [w.id for w in workers(db) if w.alive]
    return len(live) == n and unowned_running(db, live) == 0


def print_workers(db) -> None:
    fleet = [w for w in workers(db) if w.alive]
    print(f"{len(fleet)} worker(s): sessions per worker "
          f"{', '.join(str(w.sessions_owned) for w in fleet)}")
    for w in fleet:
        p95 = float("nan") if w.tick_p95_ms is None else w.tick_p95_ms
        print(f"  worker {w.holder:<24} sessions {w.sessions_owned:>5}  tick p95 {p95:7.1f} ms  "
              f"cpu {w.cpu_pct:5.1f}%  rss {w.rss_mb:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--settle", type=float, default=15,
                        help="seconds after all sessions run before steady-state sampling")
    parser.add_argument("--database-url")
    parser.add_argument("--stagger", type=int, default=0,
                        help="start each repeat of the session mix up to this many bars later "
                             "(0: the copies of a session trade on the same tick)")
    parser.add_argument("--workers", type=int, default=1,
                        help="engine processes sharing the sessions (PostgreSQL for more than 1)")
    args = parser.parse_args()
    env = fresh_env(args.database_url)
    settings = load_settings()
    db = get_engine(settings.database_url)
    pg = db.dialect.name == "postgresql"
    if args.workers > 1 and not pg:
        parser.error("--workers above 1 needs --database-url postgresql+psycopg://…")
    migrate(db)
    print(f"machine: {machine()}")
    print(anchor())
    print(f"database: {db.dialect.name}; sessions: {args.sessions}; workers: {args.workers}")
    started = time.perf_counter()
    stored = store_shipped(db)
    print(f"stored {stored:,} shipped bars ({len(catalog.datasets())} datasets) in "
          f"{time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    ids, shortest = create_sessions(db, args.sessions, args.stagger)
    print(f"created {len(ids)} sessions at 1 bar/s in {time.perf_counter() - started:.1f}s "
          f"(shortest replay window {shortest} bars)")
    procs = [start_engine(env, Path(settings.home) / f"engine{i}.out")
             for i in range(args.workers)]
    try:
        wait_for(lambda: lease_info(db).online, 30)

        def all_running():
            with Session(db) as s:
                return s.exec(select(func.count()).select_from(PaperSession).where(
                    PaperSession.status == "running")).one() == len(ids)

        wait_for(all_running, max(60, len(ids) / 25))  # a mass start: 100 commands a poll
        if pg:
            wait_for(lambda: fleet_ready(db, args.workers), 120)
        steady = sample_ticks(db, args.seconds, min(args.settle, args.seconds / 2))
        latencies = command_latencies(db, ids, args.commands)
        with Session(db) as s:
            agents = {a.id: a for a in s.exec(select(Agent))}
            fills = s.exec(select(func.count()).select_from(Fill)).one()
            bars = s.exec(select(func.count()).select_from(EquitySnapshot)).one()
            running = s.exec(select(func.count()).select_from(PaperSession).where(
                PaperSession.status == "running")).one()
        print(f"after {args.seconds:.0f}s at 1 bar/s per session plus the command round: "
              f"{bars:,} session bars traded (one equity snapshot each), {fills:,} fills, "
              f"{running} sessions still running")
        total = total_steady = 0.0
        if args.workers > 1:
            print("  (an agent's row is shared by the workers: each figure is the last writer's)")
        print("  agent        ticks     last    p95 (agent summary: whole run)   steady p50 / p95 "
              "(sampled ticks)")
        for agent_id, agent in agents.items():
            p95 = agent.summary.get("tick_p95_ms")
            got = steady.get(agent_id, [])
            steady_p50 = percentile(got, 50) if got else float("nan")
            steady_p95 = percentile(got, 95) if got else float("nan")
            total += p95 or 0
            total_steady += steady_p95 if got else 0
            print(f"  {agent_id:<12} {agent.ticks:>5} {agent.last_tick_ms:7.1f} ms  "
                  f"{p95 if p95 is not None else float('nan'):7.1f} ms"
                  f"                     {steady_p50:7.1f} / {steady_p95:7.1f} ms "
                  f"({len(got)} ticks)")
        print(f"  sum of agent tick p95s: {total:.1f} ms whole run, {total_steady:.1f} ms steady "
              f"(target < 250 ms per tick)")
        print(f"command latency over {len(latencies)} commands: p50 "
              f"{percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
              f"max {max(latencies):.0f} ms (target p95 < 250 ms, max 500 ms)")
        if pg:
            print_workers(db)
        else:
            rss = psutil.Process(procs[0].pid).memory_info().rss / 2**20
            path = sqlite_path(db)
            log = path.with_name(f"{path.name}-wal")
            print(f"engine rss {rss:.0f} MB; the database's write-ahead log file "
                  f"{log.stat().st_size / 2**20:.1f} MiB")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
