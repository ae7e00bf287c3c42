"""The desk across sessions: what the running and paused paper sessions hold per symbol, and
each one's P&L per day of its own clock. Sweep variants (backtests) and archived sessions are
not the desk's money and are left out.

Both reads are bounded: exposure reads one row per open position of those sessions; daily P&L
reads, for at most DAILY_SESSIONS sessions, the equity snapshot at each of DAYS + 1 day
boundaries — an index seek on (session_id, ts) each, so its cost does not grow with a
session's history or bar frequency."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pandas as pd
from sqlalchemy import Engine, Select, bindparam, func, select
from sqlmodel import Session

from engine.core.lifecycle import SessionStatus
from engine.params import whole
from engine.store.models import EquitySnapshot, PaperSession, Position

ACTIVE = (SessionStatus.RUNNING, SessionStatus.PAUSED)
DAYS = 14  # days of P&L shown per session, its current day included
DAILY_SESSIONS = 6  # sessions whose daily P&L is read (the latest active ones)
EXPOSURE_COLUMNS = ["symbol", "qty", "market_value", "equity_pct", "unrealized_pnl", "sessions"]
DAILY_COLUMNS = ["session_id", "session", "day", "equity", "pnl"]


@dataclass(frozen=True)
class Exposure:
    """Open positions of the active sessions per symbol, marked at each session's current
    bar's close: net quantity (units), market value and unrealized P&L (quote currency), the
    share of the active sessions' total equity (%) and how many sessions hold it."""

    symbols: pd.DataFrame  # EXPOSURE_COLUMNS, largest market value first
    equity: float  # total equity of the active sessions (quote currency)
    sessions: int  # active sessions


def _desk_sessions():
    """The desk's running and paused sessions (no sweep variants, nothing archived)."""
    return (PaperSession.status.in_(ACTIVE), PaperSession.archived.is_(False),
            PaperSession.sweep_id.is_(None))


def exposure(db: Engine) -> Exposure:
    """Positions and exposure per symbol across the running and paused sessions."""
    with Session(db) as s:
        count, equity = s.execute(select(func.count(), func.sum(PaperSession.equity))
                                  .where(*_desk_sessions())).one()
        rows = s.execute(select(Position.session_id, Position.symbol, Position.qty,
                                Position.avg_price, Position.last_price, PaperSession.last_price)
                         .join(PaperSession, PaperSession.id == Position.session_id)
                         .where(Position.qty > 0, *_desk_sessions())).all()
    held = pd.DataFrame([(sid, sym, qty, avg, (marks or {}).get(sym, price))
                         for sid, sym, qty, avg, price, marks in rows],
                        columns=["session_id", "symbol", "qty", "avg_price", "mark"])
    held["market_value"] = held["qty"] * held["mark"]
    held["unrealized_pnl"] = (held["mark"] - held["avg_price"]) * held["qty"]
    per_symbol = held.groupby("symbol", as_index=False).agg(
        qty=("qty", "sum"), market_value=("market_value", "sum"),
        unrealized_pnl=("unrealized_pnl", "sum"), sessions=("session_id", "nunique"))
    equity = float(equity or 0.0)
    per_symbol["equity_pct"] = per_symbol["market_value"] / equity * 100 if equity else None
    per_symbol = per_symbol.sort_values("market_value", ascending=False, ignore_index=True)
    return Exposure(per_symbol[EXPOSURE_COLUMNS], equity, int(count))


@lru_cache(maxsize=4)
def _day_ends_query(boundaries: int) -> Select:
    """The statement of _day_ends for `boundaries` boundaries (bound as b0, b1, …), built
    once: SQLAlchemy building and keying its subqueries anew took ~2 ms a session, some 30
    times the index seeks it runs."""
    snap, session_id = EquitySnapshot, bindparam("session_id")
    latest = [select(func.max(snap.ts)).where(snap.session_id == session_id,
                                              snap.ts < bindparam(f"b{k}", type_=snap.ts.type))
              .scalar_subquery() for k in range(boundaries)]
    return select(snap.ts, snap.equity).where(snap.session_id == session_id, snap.ts.in_(latest))


def _day_ends(s: Session, session_id: int, boundaries: list[datetime]) -> dict[datetime, tuple]:
    """The last snapshot (ts, equity) before each boundary, by boundary: one statement, an
    index seek per boundary."""
    found = dict(s.execute(_day_ends_query(len(boundaries)), {
        "session_id": session_id, **{f"b{k}": b for k, b in enumerate(boundaries)}}).all())
    ends = {}
    for boundary in boundaries:
        before = [ts for ts in found if ts < boundary]
        if before:
            ends[boundary] = (max(before), found[max(before)])
    return ends


def _session_days(s: Session, row, days: int) -> list[tuple]:
    """(day, equity at its last bar, P&L) for each day with a bar among the session's last
    `days`, on its clock (UTC days of bar time)."""
    today = datetime.combine(row.last_bar_at.date(), datetime.min.time(), row.last_bar_at.tzinfo)
    boundaries = [today + timedelta(days=1 - k) for k in range(days + 1)]
    ends = _day_ends(s, row.id, boundaries)
    out = []
    for end, start in zip(boundaries[:-1], boundaries[1:], strict=True):
        if end not in ends or ends[end][0] < start:
            continue  # no bar that day (a weekend of a stock, or before the session began)
        before = ends[start][1] if start in ends else row.starting_cash
        out.append((start, ends[end][1], ends[end][1] - before))
    return out[::-1]


def daily_pnl(db: Engine, sessions: int = DAILY_SESSIONS, days: int = DAYS) -> pd.DataFrame:
    """P&L per day of the latest `sessions` running or paused sessions, each over the days
    with a bar among its last `days` (UTC days of its bar time, its current day so far
    included), oldest day first: the equity at each day's last bar minus the equity at the previous
    day's last bar (the starting cash before its first bar). Columns DAILY_COLUMNS; `session`
    is "#id name", `day` the day's start (UTC), equity and pnl in quote currency."""
    sessions, days = whole(sessions, "sessions", 1, 50), whole(days, "days", 1, 366)
    with Session(db) as s:
        picked = s.execute(select(PaperSession.id, PaperSession.name, PaperSession.last_bar_at,
                                  PaperSession.starting_cash)
                           .where(*_desk_sessions(), PaperSession.last_bar_at.is_not(None))
                           .order_by(PaperSession.id.desc()).limit(sessions)).all()
        rows = [(row.id, f"#{row.id} {row.name}", day, equity, pnl)
                for row in picked for day, equity, pnl in _session_days(s, row, days)]
    return pd.DataFrame(rows, columns=DAILY_COLUMNS)
