"""The execution tick alone: N running replay sessions (engine_load's mix, started as the engine
starts them) loaded into one `SessionBook` in this process, with no agent, scheduler or command
beside it; every tick each clock owes exactly one bar (the clock is moved on by one second),
and a tick starts each second, as the engine's do (on SQLite a thread copies the write-ahead
log into the file between them, as the engine's does). Prints the tick's best, median and p95
over --ticks ticks after --warm ticks, beside the anchor: the part of engine_load's execution
figure that is the trading and its commit, without the engine's other threads sharing the
interpreter.

Usage: python benchmarks/tick_alone.py [--sessions 5000] [--ticks 30] [--warm 5]
       [--stagger BARS] [--database-url URL]
"""

import argparse
import threading
import time

from common import anchor, fresh_env, machine, percentile, store_shipped
from engine_load import create_sessions
from sqlmodel import select

from engine.config import load_settings
from engine.control.transitions import transition
from engine.fleet.runtime import WAL_CHECKPOINT_S
from engine.store.db import (
    checkpoint_apart,
    checkpoint_wal,
    get_engine,
    migrate,
    session_scope,
    sqlite_path,
)
from engine.store.models import PaperSession
from engine.trading.clock import SessionBook


def copy_log(db) -> None:
    while True:
        time.sleep(WAL_CHECKPOINT_S)
        checkpoint_wal(db)


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
    path = sqlite_path(db)
    if path is not None:  # as the engine does: the log is copied apart
        checkpoint_apart(db)
        threading.Thread(target=copy_log, args=(db,), daemon=True).start()
    print(anchor())
    times = []
    for i in range(args.warm + args.ticks):
        now += 1
        started = time.perf_counter()
        book.tick(now)
        took = time.perf_counter() - started
        if i >= args.warm:
            times.append(took * 1000)
        time.sleep(max(0.0, 1.0 - took))  # a tick a second, as the engine's
    print(f"{len(book.clocks)} clocks, one bar each a tick; tick over {args.ticks} ticks: best "
          f"{min(times):.0f} ms, median {percentile(times, 50):.0f} ms, "
          f"p95 {percentile(times, 95):.0f} ms")
    if path is not None:
        wal = path.with_name(f"{path.name}-wal")
        print(f"write-ahead log at the end: {wal.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
