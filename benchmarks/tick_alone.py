"""The execution tick alone: N running replay sessions (engine_load's mix, started as the engine
starts them) loaded into one `SessionBook` in this process, with no agent, scheduler or command
beside it; every tick each clock owes exactly one bar (the clock is moved on by one second).
Prints the tick's best, median and p95 over --ticks ticks after --warm ticks, beside the
anchor: the part of engine_load's execution figure that is the trading and its commit, without
the engine's other threads sharing the interpreter.

Usage: python benchmarks/tick_alone.py [--sessions 5000] [--ticks 30] [--warm 5]
       [--stagger BARS] [--database-url URL]
"""

import argparse
import time

from common import anchor, fresh_env, machine, percentile, store_shipped
from engine_load import create_sessions
from sqlmodel import select

from engine.config import load_settings
from engine.control.transitions import transition
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import PaperSession
from engine.trading.clock import SessionBook


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--stagger", type=int, default=0, help="as engine_load's")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    fresh_env(args.database_url)
    db = get_engine(load_settings().database_url)
    migrate(db)
    print(f"machine: {machine()}")
    print(f"database: {db.dialect.name}; sessions: {args.sessions}")
    store_shipped(db)
    create_sessions(db, args.sessions, args.stagger)
    with session_scope(db) as s:  # what the engine does with each queued start
        for row in s.exec(select(PaperSession)):
            transition(s, row, "start")
    book, now = SessionBook(db), 1000.0
    while len(book.clocks) < args.sessions:
        book.sync(now)
    print(anchor())
    times = []
    for i in range(args.warm + args.ticks):
        now += 1
        started = time.perf_counter()
        book.tick(now)
        if i >= args.warm:
            times.append((time.perf_counter() - started) * 1000)
    print(f"{len(book.clocks)} clocks, one bar each a tick; tick over {args.ticks} ticks: best "
          f"{min(times):.0f} ms, median {percentile(times, 50):.0f} ms, "
          f"p95 {percentile(times, 95):.0f} ms")


if __name__ == "__main__":
    main()
