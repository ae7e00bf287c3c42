"""Time each dashboard page's script run with 1,000 sessions, 1,000,000 fills and 100,000
events in the database (AppTest, no browser). Prints p50/p95 per page, cold (read caches
cleared before every run) and warm (caches shared, as between open tabs). The scripts are
compiled once, as the server compiles them (compile_once).

The database is built with the engine's own pieces, without an engine process: the shipped
bars stored once (load_shipped), the agents registered and the market data and sentiment
agents ticked once (so the agents page has bars and scores), sessions validated as
engine.control.actions would create them (a replay window over the hourly BTC bars), and each
session's orders, fills, equity snapshots (one a bar), position and account synthesized and
bulk-inserted — consistent with each other and with the bars: one order decided on each bar's
close, alternately buy and sell, filled at the next bar's open with the session's slippage and
fee through the trading core's accounting (engine.core.portfolio).

Usage: python benchmarks/page_times.py [--sessions 1000] [--fills 1000000] [--events 100000]
       [--runs 15]
"""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, anchor, fresh_env, machine, percentile, store_shipped
from sqlalchemy import func, insert, select, text

from engine.agents import AGENT_TYPES
from engine.agents.base import AgentContext
from engine.config import load_settings
from engine.control.session_spec import validate_session
from engine.core.fills import Pricing, slipped
from engine.core.portfolio import Account, apply_fill, executable_qty
from engine.logs import get_logger
from engine.market import catalog
from engine.store.db import get_engine, migrate, session_scope
from engine.store.models import (
    Agent,
    Bar,
    EquitySnapshot,
    Event,
    Fill,
    Order,
    PaperSession,
    Position,
    SentimentScore,
    SystemState,
)

PAGES = (  # (label, page, extra session state)
    ("overview", "overview", {}),
    ("overview/exposure", "overview", {"desk_tab": "Exposure"}),
    ("overview/daily", "overview", {"desk_tab": "Daily P&L"}),
    ("agents", "agents", {}),
    ("sessions", "sessions", {}),
    ("sessions/chart", "sessions", {"detail_tab": "Chart"}),
    ("sessions/trades", "sessions", {"detail_tab": "Trades"}),
    ("sessions/compare", "sessions", {"sessions_tab": "Compare", "compare_ids": [5, 6, 7]}),
    ("long session", "sessions", {"session_selected": 1}),
    ("long/chart", "sessions", {"session_selected": 1, "detail_tab": "Chart"}),
    ("compare 4 long", "sessions", {"sessions_tab": "Compare", "compare_ids": [1, 2, 3, 4]}),
    ("logs", "logs", {}),
)
STRATEGIES = ("ma_crossover", "rsi_reversion", "blend")
STATUSES = ("running", "paused", "stopped")
SYMBOL, TIMEFRAME = "BTC-USD", "1h"
CASH = 10_000.0
SESSIONS_PER_COMMIT = 50
LONG_SESSIONS = 4  # sessions 1-4 trade on every hourly bar (20,111 equity snapshots each)


def register_agents(db, settings) -> None:
    """Agent rows as the engine registers them; the market data agent stores every shipped
    dataset and the sentiment agent publishes its scores, one tick each."""
    with session_scope(db) as s:
        s.add(SystemState(status="running"))
        for kind, cls in AGENT_TYPES.items():
            s.add(Agent(id=kind, name=cls.title, kind=kind, status="running"))
    with session_scope(db) as s:
        rows = {row.id: row for row in s.execute(select(Agent)).scalars()}
    for kind in ("market_data", "sentiment"):
        ctx = AgentContext(db, settings, get_logger(settings.logs_dir, kind, pin=True))
        agent = AGENT_TYPES[kind](rows[kind], ctx)
        agent.on_start()
        agent.on_tick()
    store_shipped(db)  # in case the agent's tick is not where they are stored


def fill_counts(n_sessions: int, n_fills: int, longest: int) -> list[int]:
    """Fills per session, summing to n_fills: `longest` for each of the first LONG_SESSIONS,
    the rest spread evenly and odd where possible (a session that ends on a buy holds a
    position, as the old benchmark's sessions all did)."""
    rest, spread = n_fills - LONG_SESSIONS * longest, n_sessions - LONG_SESSIONS
    if rest < spread or spread < 1:
        raise SystemExit(f"--fills must exceed {LONG_SESSIONS * longest:,} (the long sessions) "
                         f"by a fill per other session")
    counts = [longest] * LONG_SESSIONS + [rest // spread + (i < rest % spread)
                                          for i in range(spread)]
    for i in range(LONG_SESSIONS, n_sessions - 1, 2):
        if counts[i] % 2 == 0 and counts[i + 1] % 2 == 0 and counts[i + 1] > 1:
            counts[i] += 1
            counts[i + 1] -= 1
    return counts


def trade_path(sid: int, count: int, offset: int, bars: tuple, fields: dict,
               ids: dict, now: datetime) -> tuple[dict, list, list, list, dict]:
    """One session's `count` orders and fills over count + 1 bars from `offset`: its
    session fields, order rows, fill rows, equity snapshot rows and position row."""
    times, opens, closes = bars
    fee_bps, slip_bps, size = fields["fee_bps"], fields["slippage_bps"], fields["position_size"]
    account = Account(cash=CASH)
    orders, fills, snaps = [], [], []
    pending = None  # (order id, side, qty, decision time)
    peak, max_dd, ret_n, ret_sum, ret_sumsq, previous = CASH, 0.0, 0, 0.0, 0.0, None
    for j in range(count + 1):
        k = offset + j
        if pending is not None:
            oid, side, qty, decided = pending
            price = slipped(opens[k], side, slip_bps)
            qty = executable_qty(account, SYMBOL, qty, Pricing(price, side), fee_bps)
            fee, realized = apply_fill(account, SYMBOL, side=side, qty=qty, price=price,
                                       fee_bps=fee_bps)
            fills.append({"order_id": oid, "session_id": sid, "symbol": SYMBOL, "side": side,
                          "qty": qty, "price": price, "fee": fee, "realized_pnl": realized,
                          "bar_ts": times[k], "ts": now - timedelta(seconds=ids["fill"] * 0.05)})
            ids["fill"] -= 1
            pending = None
        holding = account.holdings.get(SYMBOL)
        held = holding.qty if holding else 0.0
        equity = account.cash + held * closes[k]
        if previous is not None:
            r = equity / previous - 1
            ret_n, ret_sum, ret_sumsq = ret_n + 1, ret_sum + r, ret_sumsq + r * r
        previous, peak = equity, max(peak, equity)
        max_dd = max(max_dd, (peak - equity) / peak * 100)
        snaps.append({"session_id": sid, "ts": times[k], "cash": account.cash, "equity": equity})
        if j == count:
            break
        buy = j % 2 == 0
        qty = min(equity * size, account.cash) / closes[k] if buy else held
        side = "buy" if buy else "sell"
        rule = "fast MA crossed above slow MA" if buy else "fast MA crossed below slow MA"
        ids["order"] += 1
        orders.append({
            "id": ids["order"], "session_id": sid, "seq": j + 1, "symbol": SYMBOL, "side": side,
            "order_type": "market", "qty": qty, "status": "filled", "decision_bar_ts": times[k],
            "created_at": now, "closed_at": now, "reason": rule,
            "lineage": {"bar_ts": times[k].isoformat(), "close": closes[k], "rule": rule,
                        "indicators": {"fast_ma": closes[k], "slow_ma": closes[k]},
                        "sentiment": None, "sentiment_source": None}})
        pending = (ids["order"], side, qty, times[k])
    last = offset + count
    session = {
        **fields, "id": sid, "status": STATUSES[(sid - 1) % 3],
        "window_from": times[offset], "bars_total": len(times) - offset,
        "bars_done": count + 1, "last_bar_at": times[last],
        "cash": account.cash, "equity": previous, "marked_equity": previous,
        "peak_equity": peak, "max_drawdown_pct": max_dd, "realized_pnl": account.realized_pnl,
        "fees_paid": account.fees_paid, "trade_count": account.trade_count,
        "wins": account.wins, "losses": account.losses, "gross_profit": account.gross_profit,
        "gross_loss": account.gross_loss, "loss_streak": account.loss_streak,
        "ret_n": ret_n, "ret_sum": ret_sum, "ret_sumsq": ret_sumsq,
        "first_price": {SYMBOL: closes[offset]}, "last_price": {SYMBOL: closes[last]},
        "created_at": now - timedelta(days=1), "started_at": now - timedelta(days=1),
        "stopped_at": now if STATUSES[(sid - 1) % 3] == "stopped" else None,
        "archived": False, "paused_by_system": False,
    }
    position = {"session_id": sid, "symbol": SYMBOL, "qty": held,
                "avg_price": holding.avg_price if holding else 0.0, "last_price": closes[last]}
    return session, orders, fills, snaps, position


def build(db, settings, n_sessions: int, n_fills: int, n_events: int) -> int:
    """Fill the database; return the equity snapshots written."""
    rng = random.Random(7)
    register_agents(db, settings)
    frame = catalog.load(SYMBOL, TIMEFRAME)
    bars = ([ts.to_pydatetime() for ts in frame["ts"]], frame["open"].tolist(),
            frame["close"].tolist())
    counts = fill_counts(n_sessions, n_fills, len(bars[0]) - 1)
    if max(counts) + 1 > len(bars[0]):
        raise SystemExit(f"at most {len(bars[0]) - 1} fills per session on {SYMBOL} {TIMEFRAME}")
    base = {name: validate_session(db, {  # what engine.control.actions.create_session would store
        "name": "bench", "symbols": SYMBOL, "timeframe": TIMEFRAME, "strategy": name,
        "from": bars[0][0].isoformat(), "speed": "1", "cash": CASH}) for name in STRATEGIES}
    now, ids, snapshots = datetime.now(UTC), {"order": 0, "fill": n_fills}, 0
    for first in range(0, n_sessions, SESSIONS_PER_COMMIT):
        sessions, orders, fills, snaps, positions = [], [], [], [], []
        for i in range(first, min(first + SESSIONS_PER_COMMIT, n_sessions)):
            count = counts[i]
            offset = rng.randrange(0, len(bars[0]) - count)
            fields = {**base[STRATEGIES[i % 3]], "name": f"bench {i}"}
            row, o, f, e, p = trade_path(i + 1, count, offset, bars, fields, ids, now)
            sessions.append(row)
            orders += o
            fills += f
            snaps += e
            positions.append(p)
        with session_scope(db) as s:
            s.execute(insert(PaperSession), sessions)
            s.execute(insert(Order), orders)
            s.execute(insert(Fill), fills)
            s.execute(insert(EquitySnapshot), snaps)
            s.execute(insert(Position), positions)
        snapshots += len(snaps)
    with session_scope(db) as s:
        severities = ("info",) * 18 + ("warning", "error")
        s.execute(insert(Event), [{
            "ts": now - timedelta(seconds=n_events - k),
            "severity": severities[k % 20], "source": f"session-{k % n_sessions + 1}",
            "kind": "fill", "message": f"session {k % n_sessions + 1}: bought 0.1 BTC-USD ({k})"}
            for k in range(n_events)])
    with db.connect() as c:
        c.execute(text("ANALYZE"))
    return snapshots


def compile_once() -> None:
    """Compile app.py and each page once, as a Streamlit server does (its runtime keeps one
    ScriptCache): AppTest makes a fresh ScriptCache every run, so without this each timed run
    would also parse, rewrite (magic) and compile the scripts — about 10 % of a page run that
    no viewer waits for."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


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
    print(f"machine: {machine()}")
    print(anchor())
    started = time.perf_counter()
    snapshots = build(db, settings, args.sessions, args.fills, args.events)
    size = Path(settings.database_url.removeprefix("sqlite:///")).stat().st_size
    with session_scope(db) as s:
        stored = s.execute(select(func.count()).select_from(Bar)).scalar_one()
        scores = s.execute(select(func.count()).select_from(SentimentScore)).scalar_one()
    print(f"database: {args.sessions} sessions, {args.fills:,} fills (and orders), "
          f"{snapshots:,} equity snapshots, {args.events:,} events, {stored:,} bars of "
          f"{len(catalog.datasets())} datasets, {scores} sentiment scores ({size / 2**20:.0f} "
          f"MiB, built in {time.perf_counter() - started:.0f}s)")
    base = {"session_selected": 5, "agent_selected": "strategy"}
    compile_once()
    for label, page, extra in PAGES:
        state = {**base, **extra}
        cold = time_page(page, args.runs, True, state)
        warm = time_page(page, args.runs, False, state)
        print(f"{label:<17} cold p50 {percentile(cold, 50):6.0f} ms  p95 "
              f"{percentile(cold, 95):6.0f} ms   warm p50 {percentile(warm, 50):6.0f} ms  "
              f"p95 {percentile(warm, 95):6.0f} ms   (target < 300 ms)")


if __name__ == "__main__":
    main()
