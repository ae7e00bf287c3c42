"""Fast-forward the SMA(10, 30) crossover over every hourly BTC bar through the engine (the
per-bar core plus its stored orders, fills, one equity snapshot a bar and the account,
committed in chunks) and through backtesting.py on the same bars, in the same run; print bars
per second for each and their ratio.

Data loading is untimed for both: backtesting.py's DataFrame is built before `bt.run()`, and
the engine's headline figure is a fast-forward by a session book that already holds the bars
in memory, as a running engine does (it reads each dataset once). The engine's cold figure,
`run_to_end` reading the bars from the bar table first, is printed too. Each figure is the
best of `--runs` runs, the two interleaved (the median is printed too). Every engine run gets
a fresh SQLite database (with --database-url all runs share that database). --profile adds
run_to_end's phases, timed in place, and a cProfile listing of one more run.

Usage: python benchmarks/fast_forward.py [--runs 5] [--database-url URL] [--profile [N]]
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from backtesting import Strategy
from backtesting.lib import FractionalBacktest, crossover
from common import ROOT, anchor, fresh_env, machine
from sqlalchemy import func, select, update

from engine.config import load_settings
from engine.control import actions as control
from engine.core.trader import replay
from engine.market import catalog
from engine.market.replay import load_shipped
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Fill, PaperSession
from engine.trading.clock import SessionBook, run_to_end

SYMBOL, TIMEFRAME = "BTC-USD", "1h"
FAST, SLOW = 10, 30
CASH, FEE_BPS, SLIPPAGE_BPS, POSITION_SIZE = 10_000.0, 10.0, 5.0, 0.25


# ------------------------------------------------------------------ the engine


def engine_db(base_url: str | None, home: Path, run: int):
    """A migrated database holding the shipped bars (untimed)."""
    db = get_engine(base_url or f"sqlite:///{home / f'ff-{run}.db'}")
    migrate(db)
    load_shipped(db, SYMBOL, TIMEFRAME)
    return db


def new_session(db) -> int:
    first = catalog.span(SYMBOL, TIMEFRAME)[0]
    sid = control.create_session(db, {
        "name": "fast-forward benchmark", "symbols": SYMBOL, "strategy": "ma_crossover",
        "timeframe": TIMEFRAME, "params": {"fast": FAST, "slow": SLOW},
        "from": first.isoformat(), "to": None, "speed": "max", "cash": CASH,
        "fill_model": "custom", "fee_bps": FEE_BPS, "slippage_bps": SLIPPAGE_BPS,
        "position_size": POSITION_SIZE}).id
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="running"))
    return sid


@contextmanager
def timed_calls(targets: list[tuple[object, str, str]]):
    """Accumulate the wall time spent in each (owner, attribute) while the block runs, by
    wrapping the engine's functions in this process only (each runs a few times per
    5,000-bar chunk, so the wrappers cost nothing measurable). Yields {label: seconds}."""
    spent = {label: 0.0 for _, _, label in targets}
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def wrap(label, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start
        return wrapper

    try:
        for (owner, name, label), (_, _, fn) in zip(targets, originals, strict=True):
            setattr(owner, name, wrap(label, fn))
        yield spent
    finally:
        for owner, name, fn in originals:
            setattr(owner, name, fn)


def engine_run(db) -> dict:
    """Cold: run_to_end from nothing (it reads the session's bars from the bar table). Warm: a
    second session fast-forwarded by a SessionBook that already holds the bars in memory, as
    a running engine does (the bars are read once per engine, like backtesting.py's
    DataFrame, which is built before bt.run())."""
    sid = new_session(db)
    with timed_calls([(SessionBook, "load", "load")]) as spent:
        start = time.perf_counter()
        bars = run_to_end(db, sid)
        total_s = time.perf_counter() - start
    book = SessionBook(db)
    book.cache.get((SYMBOL, TIMEFRAME))  # data loading, untimed
    warm_sid = new_session(db)
    start = time.perf_counter()
    clock = book.load(warm_sid)
    book.fast_forward(float("inf"), only=warm_sid)
    warm_s = time.perf_counter() - start
    start = time.perf_counter()  # the core alone: the same bars in memory, nothing stored
    replay(clock.trader.settings, clock.series, clock.start, None)
    memory_s = time.perf_counter() - start
    with session_scope(db) as s:
        sides = dict(s.execute(select(Fill.side, func.count()).where(Fill.session_id == sid)
                               .group_by(Fill.side)).all())
        row = s.get(PaperSession, sid)
        ret = (row.equity / row.starting_cash - 1) * 100
        status = row.status
    return {"bars": bars, "total_s": total_s, "load_s": spent["load"], "warm_s": warm_s,
            "memory_s": memory_s,
            "buys": sides.get("buy", 0), "sells": sides.get("sell", 0), "return_pct": ret,
            "status": status}


# ------------------------------------------------------------------ backtesting.py


def sma(values, n: int):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
    fast, slow, size = FAST, SLOW, POSITION_SIZE

    def init(self):
        self.fast_ma = self.I(sma, self.data.Close, self.fast)
        self.slow_ma = self.I(sma, self.data.Close, self.slow)

    def next(self):
        if crossover(self.fast_ma, self.slow_ma):
            if not self.position:
                self.buy(size=self.size)
        elif crossover(self.slow_ma, self.fast_ma) and self.position:
            self.position.close()


def bt_frame() -> pd.DataFrame:
    frame = catalog.load(SYMBOL, TIMEFRAME)
    return (frame.set_index(pd.DatetimeIndex(frame["ts"]).tz_localize(None))
            .rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]])


def bt_run(df: pd.DataFrame) -> dict:
    # Fractional units (1 satoshi), as backtesting.py trades whole units only; spread = the
    # engine's slippage (buy above, sell below the open), commission = its fee, both per side.
    bt = FractionalBacktest(df, SmaCross, cash=CASH, commission=FEE_BPS / 10_000,
                            spread=SLIPPAGE_BPS / 10_000, finalize_trades=True)
    start = time.perf_counter()
    stats = bt.run()
    elapsed = time.perf_counter() - start
    return {"total_s": elapsed, "trades": int(stats["# Trades"]),
            "return_pct": float(stats["Return [%]"])}


# ------------------------------------------------------------------ report


def phases(db) -> None:
    """Where one run_to_end spends its time, measured without a profiler."""
    from engine.market import series
    from engine.trading import clock, session_clock, store

    plain_insert = store.insert_raw
    tables = {"equity_snapshot": "equity snapshots", "trade_order": "orders", "fill": "fills"}

    class Inserts:  # store.insert_raw, split by table
        pass

    for table in tables:
        setattr(Inserts, table, staticmethod(plain_insert))
    targets = [  # (owner, attribute, label), in the order printed; nested labels indented
        (clock.SessionBook, "load", "load the session (SessionBook.load)"),
        (series.BarCache, "_top_up", "  of which: read the bars from the bar table"),
        (session_clock.SessionClock, "advance",
         "trade the bars (SessionClock.advance: Trader.step)"),
        (clock.SessionBook, "commit", "commit the chunks (SessionBook.commit)"),
        (clock, "write_batches", "  of which: write_batches"),
        *((Inserts, table, f"    of which: insert {label}") for table, label in tables.items()),
    ]
    sid = new_session(db)
    with timed_calls(targets) as spent:
        store.insert_raw = lambda s, table, columns, rows: getattr(
            Inserts, table, plain_insert)(s, table, columns, rows)
        try:
            start = time.perf_counter()
            bars = run_to_end(db, sid)
            total = time.perf_counter() - start
        finally:
            store.insert_raw = plain_insert
    print(f"\nengine run_to_end phases (one run, {bars:,} bars in {total:.3f} s = 100%):")
    for label, seconds in spent.items():
        print(f"  {label:<54} {seconds:6.3f} s  {seconds / total * 100:5.1f}%")


def profile_engine(db, top: int) -> None:
    sid = new_session(db)
    profiler = cProfile.Profile()
    profiler.enable()
    run_to_end(db, sid)
    profiler.disable()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(key).print_stats(top)
        print(f"\nengine run_to_end under cProfile (sorted by {key}, top {top}; the profiler "
              "inflates per-call Python costs):")
        print("\n".join(line.replace(str(ROOT) + "/", "") for line in
                        out.getvalue().splitlines()
                        if line.strip() and not line.startswith(("   Ordered", "   List"))))


def best_median(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs of each (best is reported)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: fresh SQLite files)")
    parser.add_argument("--profile", type=int, nargs="?", const=25, default=0, metavar="N",
                        help="also profile one engine run and print the top N functions")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    warnings.filterwarnings("ignore", module="backtesting")
    fresh_env(args.database_url)
    home = load_settings().home
    print(f"machine: {machine()}")
    print(anchor())

    df = bt_frame()
    engine_runs, bt_runs = [], []
    for i in range(args.runs):  # interleaved, so a busy moment hits both
        db = engine_db(args.database_url, home, i)
        engine_runs.append(engine_run(db))
        bt_runs.append(bt_run(df))
    bars = engine_runs[0]["bars"]
    if bars != len(df):
        raise SystemExit(f"the engine traded {bars} bars, backtesting.py {len(df)}")
    e = engine_runs[-1]
    b = bt_runs[-1]
    e_best, e_med = best_median([r["total_s"] for r in engine_runs])
    l_best, _ = best_median([r["load_s"] for r in engine_runs])
    b_best, b_med = best_median([r["total_s"] for r in bt_runs])
    dialect = get_engine(args.database_url).dialect.name if args.database_url else "sqlite"
    print(f"data: {len(df):,} {SYMBOL} {TIMEFRAME} bars; SMA({FAST}, {SLOW}) crossover, cash "
          f"{CASH:,.0f}, fee {FEE_BPS:g} bps, slippage {SLIPPAGE_BPS:g} bps, position size "
          f"{POSITION_SIZE:g}; best of {args.runs} runs (median in brackets)")
    w_best, w_med = best_median([r["warm_s"] for r in engine_runs])
    print(f"engine fast-forward, bars in memory as in a running engine ({dialect}, orders, "
          f"fills, a snapshot a bar and the account stored): {bars / w_best:,.0f} bars/s "
          f"({w_best:.3f} s) [{bars / w_med:,.0f} bars/s]")
    m_best, m_med = best_median([r["memory_s"] for r in engine_runs])
    print(f"engine core in memory (replay: the same Trader.step, nothing stored): "
          f"{bars / m_best:,.0f} bars/s ({m_best:.3f} s) [{bars / m_med:,.0f} bars/s]")
    print(f"engine run_to_end cold (also reads the bars from the bar table): "
          f"{bars / e_best:,.0f} bars/s ({e_best:.3f} s) [{bars / e_med:,.0f} bars/s]; "
          f"of which loading the session {l_best:.3f} s")
    print(f"backtesting.py bt.run() (DataFrame in memory, nothing stored): "
          f"{len(df) / b_best:,.0f} bars/s ({b_best:.3f} s) [{len(df) / b_med:,.0f} bars/s]")
    print(f"ratio engine / backtesting.py: {b_best / w_best:.2f}x best, {b_med / w_med:.2f}x "
          f"median (target >= 1.0x); in memory {b_best / m_best:.2f}x best, "
          f"{b_med / m_med:.2f}x median (target >= 2.0x); cold {b_best / e_best:.2f}x best, "
          f"{b_med / e_med:.2f}x median")
    end = "a position left open" if e["buys"] > e["sells"] else "flat at the end"
    print(f"trades: engine {e['buys'] + e['sells']} fills ({e['buys']} buys, {e['sells']} "
          f"sells; {end}; session {e['status']}), return {e['return_pct']:.1f}%")
    print(f"        backtesting.py {b['trades']} trades (round trips; finalize_trades closes one "
          f"still open at the end), return {b['return_pct']:.1f}%")
    print("        (not identical by design: backtesting.py sizes an entry at the fill, on the "
          "next open with fee, in whole satoshis; the engine at the decision bar's close, capped "
          "by cash at the fill)")
    if args.profile:
        phases(engine_db(args.database_url, home, args.runs))
        profile_engine(engine_db(args.database_url, home, args.runs + 1), args.profile)


if __name__ == "__main__":
    main()
