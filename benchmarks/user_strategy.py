"""A user's strategy fast-forwarded beside the built-in MA crossover, in the same run.

The user strategy is the built-in SMA(10, 30) crossover's rule written only against the public
API (what an analyst would put in PAPERDESK_HOME/strategies/), so the two make the same trades
and the difference is what running user code costs: the file's module, and the time budget's
watchdog around every 20 bars (engine.trading.budget). Each figure is a `run_to_end` of a
session over every hourly BTC bar on a fresh SQLite database (orders, fills and one equity
snapshot a bar stored), best of `--runs`, the two interleaved.

Usage: python benchmarks/user_strategy.py [--runs 3]
"""

import argparse
import time
from pathlib import Path

from common import anchor, fresh_env, machine
from sqlalchemy import func, select, update

from engine.config import load_settings
from engine.control import actions as control
from engine.market import catalog
from engine.market.replay import load_shipped
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import Fill, PaperSession
from engine.trading.clock import run_to_end

USER_MA = '''
from engine.core.strategy_api import BUY, SELL, Decision, Param, Strategy, declare


class UserMA(Strategy):
    name = "user_ma"
    title = "SMA crossover, as a user writes it"
    params = declare(Param("fast", int, 10, "fast SMA bars", 2, 200),
                     Param("slow", int, 30, "slow SMA bars", 3, 500))

    def __init__(self, params):
        super().__init__(params)
        self.closes, self.prev = [], None

    def on_bar(self, ctx):
        self.closes.append(ctx.bar.close)
        fast, slow = self.p["fast"], self.p["slow"]
        if len(self.closes) < slow:
            return None
        del self.closes[:-slow]
        diff = sum(self.closes[-fast:]) / fast - sum(self.closes) / slow
        prev, self.prev = self.prev, diff
        if prev is not None and prev <= 0 < diff:
            return Decision(BUY, "fast above slow")
        if prev is not None and prev >= 0 > diff:
            return Decision(SELL, "fast below slow")
        return None
'''


def one_run(strategy: str) -> tuple[float, int, int]:
    """(seconds, bars, fills) of one fast-forward on a fresh database."""
    env = fresh_env()
    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True)
    (folder / "user_ma.py").write_text(USER_MA)
    db = get_engine(load_settings(env).database_url)
    migrate(db)
    load_shipped(db, "BTC-USD", "1h")
    first = catalog.load("BTC-USD", "1h")["ts"].iloc[40].isoformat()
    sid = control.create_session(db, {"name": "bench", "strategy": strategy,
                                      "symbols": "BTC-USD", "from": first,
                                      "params": {"fast": 10, "slow": 30}}).id
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="running"))
    start = time.perf_counter()
    bars = run_to_end(db, sid)
    seconds = time.perf_counter() - start
    with session_scope(db) as s:
        fills = s.execute(select(func.count()).where(Fill.session_id == sid)).scalar_one()
    return seconds, bars, fills


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print(anchor())
    best = {}
    for _ in range(args.runs):
        for strategy in ("ma_crossover", "user_ma"):
            seconds, bars, fills = one_run(strategy)
            if strategy not in best or seconds < best[strategy][0]:
                best[strategy] = (seconds, bars, fills)
    for strategy, (seconds, bars, fills) in best.items():
        print(f"{strategy:13s} {bars:,} bars, {fills:,} fills: {seconds:.2f} s = "
              f"{bars / seconds:,.0f} bars/s (best of {args.runs})")
    ratio = best["user_ma"][0] / best["ma_crossover"][0]
    print(f"user strategy / built-in time: {ratio:.2f}×")


if __name__ == "__main__":
    main()
