"""Performance figures: equity snapshots per bar, and the statistics shown for a session."""

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from engine import catalog
from engine.db import bulk_insert, bulk_update, session_scope
from engine.lifecycle import SessionStatus
from engine.market.bars import bars_after, last_bars
from engine.models import EquitySnapshot, PaperSession, Position

MAX_BARS_PER_PASS = 500


@dataclass(frozen=True)
class Alert:
    session_id: int
    kind: str
    message: str


def sharpe(n: int, total: float, total_sq: float, periods_per_year: float) -> float | None:
    """Annualized Sharpe ratio (risk-free 0) from the count, sum and sum of squares of returns."""
    if n < 2:
        return None
    mean = total / n
    var = (total_sq - n * mean * mean) / (n - 1)
    if var <= 1e-18:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def profit_factor(gross_profit: float, gross_loss: float) -> float | None:
    if gross_loss <= 0:
        return None if gross_profit <= 0 else math.inf
    return gross_profit / gross_loss


def max_drawdown_pct(equity: list[float]) -> float:
    """Largest fall from a running peak, in percent (an independent, whole-series computation)."""
    peak, worst = -math.inf, 0.0
    for value in equity:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, (peak - value) / peak * 100)
    return worst


def session_stats(row: dict, unrealized: float, last_prices: dict[str, float]) -> dict:
    """The metrics of one session from its stored counters (no scan over fills)."""
    symbols = row["symbols"].split(",")
    first = row.get("first_price") or {}
    bh = [last_prices[s] / first[s] - 1 for s in symbols if s in first and s in last_prices]
    closed = row["wins"] + row["losses"]
    per_year = catalog.bars_per_year(symbols[0], row["timeframe"])
    return {
        "return_pct": (row["equity"] / row["starting_cash"] - 1) * 100,
        "buy_hold_pct": sum(bh) / len(bh) * 100 if bh else None,
        "realized_pnl": row["realized_pnl"],
        "unrealized_pnl": unrealized,
        "win_rate_pct": row["wins"] / closed * 100 if closed else None,
        "profit_factor": profit_factor(row["gross_profit"], row["gross_loss"]),
        "max_drawdown_pct": row["max_drawdown_pct"],
        "sharpe": sharpe(row["ret_n"], row["ret_sum"], row["ret_sumsq"], per_year),
        "trades": row["trade_count"],
        "fees_paid": row["fees_paid"],
    }


@dataclass(frozen=True)
class Series:
    """New bars of one dataset for this pass: their times (ascending) and closes."""

    times: list[datetime]
    closes: dict[datetime, float]


def _series(db: Engine, sessions: list) -> dict[tuple[str, str], Series]:
    """New bars per dataset: after the oldest session cursor, plus the newest bar for sessions
    that have none yet (a new session starts at the current bar, nothing is back-filled)."""
    oldest: dict[tuple[str, str], datetime] = {}
    fresh: set[tuple[str, str]] = set()
    for row in sessions:
        for symbol in row.symbols.split(","):
            key = (symbol, row.timeframe)
            if row.last_bar_at is None:
                fresh.add(key)
            else:
                oldest[key] = min(oldest.get(key, row.last_bar_at), row.last_bar_at)
    paths = {key: bars_after(db, *key, since, limit=MAX_BARS_PER_PASS)
             for key, since in oldest.items()}
    for key in fresh - set(paths):
        paths[key] = last_bars(db, *key, None, 1)
    return {key: Series([b.ts for b in bars], {b.ts: b.close for b in bars})
            for key, bars in paths.items()}


def _new_times(row, symbols: list[str], series: dict[tuple[str, str], Series]) -> list:
    found = [series[k] for k in ((s, row.timeframe) for s in symbols) if k in series]
    if row.last_bar_at is None:
        latest = [ser.times[-1] for ser in found if ser.times]
        return [max(latest)] if latest else []
    fresh = [ser.times[bisect_right(ser.times, row.last_bar_at):] for ser in found]
    return fresh[0] if len(fresh) == 1 else sorted(set().union(*fresh))


def mark_to_market(db: Engine, drawdown_alert_pct: float) -> tuple[int, list[Alert]]:
    """Snapshot equity on every new bar of each running or paused session; update peak,
    drawdown, return statistics and positions' last prices. Returns (snapshots, alerts)."""
    with session_scope(db) as s:
        sessions = list(s.execute(
            select(PaperSession.id, PaperSession.symbols, PaperSession.timeframe,
                   PaperSession.cash, PaperSession.marked_equity, PaperSession.peak_equity,
                   PaperSession.max_drawdown_pct, PaperSession.ret_n, PaperSession.ret_sum,
                   PaperSession.ret_sumsq, PaperSession.last_bar_at)
            .where(PaperSession.status.in_((SessionStatus.RUNNING, SessionStatus.PAUSED)))
        ))
        if not sessions:
            return 0, []
        holdings: dict[int, dict[str, tuple[float, float]]] = {}
        for sid, symbol, qty, last in s.execute(
            select(Position.session_id, Position.symbol, Position.qty, Position.last_price)
            .where(Position.qty > 0)
        ):
            holdings.setdefault(sid, {})[symbol] = (qty, last)
        series = _series(db, sessions)
        snapshots, session_updates, first_prices, position_updates, alerts = [], [], [], [], []
        for row in sessions:
            result = _mark_session(row, holdings.get(row.id, {}), series, drawdown_alert_pct)
            if result is None:
                continue
            snaps, changes, prices, alert = result
            snapshots += snaps
            session_updates.append(changes)
            if row.last_bar_at is None:
                first_prices.append({"id": row.id, "first_price": prices})
            position_updates += [
                {"session_id": row.id, "symbol": sym, "last_price": prices[sym]}
                for sym in holdings.get(row.id, {}) if sym in prices
            ]
            if alert:
                alerts.append(alert)
        bulk_insert(s, EquitySnapshot, snapshots)
        bulk_update(s, PaperSession, session_updates)
        bulk_update(s, PaperSession, first_prices)
        bulk_update(s, Position, position_updates, keys=("session_id", "symbol"))
    return len(snapshots), alerts


def _mark_session(row, held: dict[str, tuple[float, float]], series, drawdown_alert_pct: float):
    symbols = row.symbols.split(",")
    times = _new_times(row, symbols, series)
    if not times:
        return None
    closes = [(sym, series[(sym, row.timeframe)].closes) for sym in symbols
              if (sym, row.timeframe) in series]
    prices = {sym: last for sym, (_, last) in held.items()}
    equity, peak, max_dd = row.marked_equity, row.peak_equity, row.max_drawdown_pct
    n, total, total_sq = row.ret_n, row.ret_sum, row.ret_sumsq
    snaps, alert = [], None
    for ts in times:
        for sym, by_time in closes:
            if ts in by_time:
                prices[sym] = by_time[ts]
        new_equity = row.cash + sum(qty * prices[sym] for sym, (qty, _) in held.items())
        if row.last_bar_at is not None or snaps:
            r = new_equity / equity - 1 if equity > 0 else 0.0
            n, total, total_sq = n + 1, total + r, total_sq + r * r
        equity, peak = new_equity, max(peak, new_equity)
        drawdown = (peak - equity) / peak * 100 if peak > 0 else 0.0
        if drawdown >= drawdown_alert_pct > max_dd:
            alert = Alert(row.id, "drawdown", f"session {row.id} drawdown {drawdown:.1f}% "
                          f"passed the {drawdown_alert_pct:g}% alert")
        max_dd = max(max_dd, drawdown)
        snaps.append({"session_id": row.id, "ts": ts, "cash": row.cash, "equity": equity})
    changes = {"id": row.id, "equity": equity, "marked_equity": equity, "peak_equity": peak,
               "max_drawdown_pct": max_dd,
               "ret_n": n, "ret_sum": total, "ret_sumsq": total_sq, "last_bar_at": times[-1]}
    return snaps, changes, prices, alert
