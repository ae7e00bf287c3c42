"""Time each dashboard page's script run with 1,000 sessions, 1,000,000 fills and 100,000
events in the database (AppTest, no browser). Prints p50/p95 per page, cold (read caches
cleared before every run) and warm (caches shared, as between open tabs).

Usage: python benchmarks/page_times.py [--sessions 1000] [--fills 1000000] [--events 100000]
       [--runs 15] [--keep DB_FILE]
"""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_env, machine, percentile
from sqlalchemy import insert, text, update

from engine import catalog
from engine.config import load_settings
from engine.db import get_engine, migrate, session_scope
from engine.lockstep import Lockstep
from engine.models import (
    Agent,
    EquitySnapshot,
    Event,
    Fill,
    Order,
    PaperSession,
    Position,
    SystemState,
)

PAGES = (  # (label, page, extra session state)
    ("overview", "overview", {}),
    ("agents", "agents", {}),
    ("sessions", "sessions", {}),
    ("sessions/chart", "sessions", {"detail_tab": "Chart"}),
    ("sessions/trades", "sessions", {"detail_tab": "Trades"}),
    ("sessions/compare", "sessions", {"sessions_tab": "Compare", "compare_ids": [2, 3, 4]}),
    ("logs", "logs", {}),
)
STRATEGIES = ("ma_crossover", "rsi_reversion", "blend")


def build(db, settings, n_sessions: int, n_fills: int, n_events: int) -> None:
    rng = random.Random(7)
    t0 = datetime(2019, 1, 1, tzinfo=UTC)
    runner = Lockstep(db, settings, {"market_data": {"warmup_bars": 300}})
    runner.step()
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        s.execute(update(Agent).values(status="running"))
        s.execute(insert(PaperSession), [{
            "name": f"bench {i}", "strategy": STRATEGIES[i % 3], "symbols": "BTC-USD",
            "timeframe": "1h", "params": {}, "starting_cash": 10_000.0, "cash": 5_000.0,
            "equity": 10_000 + rng.uniform(-2000, 2000), "marked_equity": 10_000.0,
            "peak_equity": 11_000.0, "status": ("running", "paused", "stopped")[i % 3],
            "trade_count": n_fills // n_sessions, "wins": 10, "losses": 7,
            "gross_profit": 900.0, "gross_loss": 600.0, "ret_n": 500, "ret_sum": 0.05,
            "ret_sumsq": 0.02, "first_price": {"BTC-USD": 2500.0}, "fee_bps": 10.0,
            "slippage_bps": 5.0, "position_size": 0.25, "restart_policy": "resume",
            "created_at": t0, "started_at": t0, "last_bar_at": t0, "archived": False,
            "paused_by_system": False, "fees_paid": 10.0, "realized_pnl": 300.0,
            "max_drawdown_pct": 7.5, "loss_streak": 0,
        } for i in range(n_sessions)])
        s.execute(insert(Position), [{"session_id": i + 1, "symbol": "BTC-USD", "qty": 1.0,
                                      "avg_price": 2500.0, "last_price": 2600.0}
                                     for i in range(n_sessions)])
    batch = 50_000
    for start in range(0, n_fills, batch):
        rows = range(start, min(start + batch, n_fills))
        now = datetime.now(UTC)
        with session_scope(db) as s:
            s.execute(insert(Order), [{
                "id": k + 1, "session_id": k % n_sessions + 1, "symbol": "BTC-USD",
                "side": "buy" if k % 2 == 0 else "sell", "order_type": "market", "qty": 1.0,
                "status": "filled", "decision_bar_ts": t0 + timedelta(hours=k // n_sessions),
                "created_at": now, "closed_at": now, "reason": "fast MA crossed above slow MA",
                "lineage": {"rule": "fast MA crossed above slow MA",
                            "indicators": {"fast_ma": 1.0, "slow_ma": 0.9}, "sentiment": 0.1},
            } for k in rows])
            s.execute(insert(Fill), [{
                "order_id": k + 1, "session_id": k % n_sessions + 1, "symbol": "BTC-USD",
                "side": "buy" if k % 2 == 0 else "sell", "qty": 1.0,
                "price": 2500 + rng.uniform(-100, 100), "fee": 2.5, "realized_pnl": 0.0,
                "bar_ts": t0 + timedelta(hours=k // n_sessions + 1),
                "ts": now - timedelta(seconds=(n_fills - k) * 0.05),
            } for k in rows])
    with session_scope(db) as s:
        s.execute(insert(EquitySnapshot), [{
            "session_id": i % n_sessions + 1, "ts": t0 + timedelta(hours=i // n_sessions),
            "cash": 5000.0, "equity": 10_000 + rng.uniform(-500, 500)}
            for i in range(n_sessions * 300)])
        severities = ("info",) * 18 + ("warning", "error")
        s.execute(insert(Event), [{
            "ts": datetime.now(UTC) - timedelta(seconds=n_events - k),
            "severity": severities[k % 20], "source": f"session-{k % n_sessions + 1}",
            "kind": "fill", "message": f"session {k % n_sessions + 1}: bought 1 BTC-USD ({k})"}
            for k in range(n_events)])
    with db.connect() as c:
        c.execute(text("ANALYZE"))


def time_page(page: str, runs: int, cold: bool, state: dict) -> list[float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    times = []
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"views/{page}.py")
    at.run()  # first run: imports and cache_resource
    for _ in range(runs):
        if cold:
            st.cache_data.clear()
        start = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - start) * 1000)
        if at.exception:
            raise RuntimeError(at.exception)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    fresh_env()
    settings = load_settings()
    db = get_engine(settings.database_url)
    migrate(db)
    started = time.perf_counter()
    build(db, settings, args.sessions, args.fills, args.events)
    size = Path(settings.database_url.removeprefix("sqlite:///")).stat().st_size
    print(f"machine: {machine()}")
    print(f"database: {args.sessions} sessions, {args.fills:,} fills, {args.events:,} events, "
          f"{len(catalog.datasets())} datasets ({size / 2**20:.0f} MiB, built in "
          f"{time.perf_counter() - started:.0f}s)")
    base = {"session_selected": 2, "agent_selected": "strategy"}
    for label, page, extra in PAGES:
        state = {**base, **extra}
        cold = time_page(page, args.runs, True, state)
        warm = time_page(page, args.runs, False, state)
        print(f"{label:<17} cold p50 {percentile(cold, 50):6.0f} ms  p95 "
              f"{percentile(cold, 95):6.0f} ms   warm p50 {percentile(warm, 50):6.0f} ms  "
              f"p95 {percentile(warm, 95):6.0f} ms   (target < 300 ms)")


if __name__ == "__main__":
    main()
