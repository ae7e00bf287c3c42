"""Reads for the dashboard and CLI: DataFrames and dataclasses, aggregated in SQL, bounded."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, String, func, select, type_coerce
from sqlmodel import Session

from engine.core.bars import TIMEFRAMES
from engine.core.lifecycle import WORKING_ORDER, OrderStatus
from engine.errors import BadInput, NotFound, shown
from engine.log_files import ENGINE_LOG, SEVERITIES
from engine.market import catalog
from engine.params import MAX_ID, optional_text, session_key, whole
from engine.reads import builders
from engine.reads.builders import MAX_EVENTS, MAX_ROWS, SESSION_COLUMNS
from engine.reads.curve import per_bar_curve
from engine.reads.fleet import workers as fleet_workers
from engine.reads.records import SessionDocument
from engine.reads.status import session_hold
from engine.reads.words import session_word
from engine.store.models import (
    Agent,
    Bar,
    Event,
    Fill,
    NodePosition,
    Order,
    PaperSession,
    Position,
    SentimentScore,
)

MAX_COMPARED = 50  # sessions in one comparison


def _timeframe(timeframe: Any) -> str:
    if not isinstance(timeframe, str) or timeframe not in TIMEFRAMES:
        raise BadInput(f"timeframe must be one of {', '.join(TIMEFRAMES)} (got "
                       f"{shown(timeframe)})")
    return timeframe


def _time(value: Any, field: str) -> datetime | None:
    if value is not None and not (isinstance(value, datetime) and value.tzinfo is not None):
        raise BadInput(f"{field} must be a time with its time zone (got {shown(value)})")
    return value


# ---------------------------------------------------------------- agents


def agents(db: Engine) -> pd.DataFrame:
    """Every agent in pipeline order, with metrics, config and key figures."""
    with Session(db) as s:
        rows = [r.model_dump() for r in s.execute(select(Agent)).scalars()]
    return pd.DataFrame([asdict(card) for card in builders.agent_cards(rows)])


def node_positions(db: Engine) -> dict[str, tuple[float, float]]:
    with Session(db) as s:
        return {r.node_id: (r.x, r.y) for r in s.execute(select(NodePosition)).scalars()}


# ---------------------------------------------------------------- sessions


def sessions(db: Engine, include_archived: bool = False, include_sweeps: bool = False,
             limit: int = 2000) -> pd.DataFrame:
    """Latest sessions first, with P&L; counts come from stored counters, not from fills.
    A sweep's variants (backtests, not the desk's money) only with `include_sweeps`.

    The rows of builders.session_line, built a column at a time: the P&L by
    builders.pnl_figures over whole columns and each distinct status and wait reason worded
    once (every page reads this list; row by row, 1,000 sessions cost ~17 ms)."""
    limit = whole(limit, "limit", 1, MAX_ROWS)
    cols = [getattr(PaperSession, c) for c in SESSION_COLUMNS]
    query = select(*cols).order_by(PaperSession.id.desc()).limit(limit)
    if not include_archived:
        query = query.where(PaperSession.archived.is_(False))
    if not include_sweeps:
        query = query.where(PaperSession.sweep_id.is_(None))
    with Session(db) as s:
        rows = s.connection().execute(query).all()  # core rows: no ORM row handling
        hold = session_hold(s)
    if not rows:
        return pd.DataFrame(columns=list(builders.SESSION_LINE))
    frame = pd.DataFrame(map(tuple, rows), columns=list(SESSION_COLUMNS))
    reasons = [(r.status, r.wait_reason) for r in rows]  # as read: a frame's None is NaN
    words = {key: session_word(*key, hold) for key in set(reasons)}
    frame["condition"] = [words[key].word for key in reasons]
    frame["why"] = [words[key].why for key in reasons]
    frame["return_pct"], frame["pnl"], frame["unrealized_pnl"] = builders.pnl_figures(
        frame["equity"], frame["starting_cash"], frame["realized_pnl"])
    return frame


def _session_row(s: Session, session_id) -> PaperSession:
    key = session_key(session_id)
    row = s.get(PaperSession, key)
    if row is None:
        raise NotFound(f"no session {key}")
    return row


def positions(db: Engine, session_id: int) -> pd.DataFrame:
    """Open positions valued at the close of the session's current bar (its clock)."""
    key = session_key(session_id)
    with Session(db) as s:
        last = s.execute(select(PaperSession.last_price)
                         .where(PaperSession.id == key)).scalar() or {}
        rows = s.execute(select(Position.symbol, Position.qty, Position.avg_price,
                                Position.last_price)
                         .where(Position.session_id == key, Position.qty > 0)
                         .order_by(Position.symbol)).all()
    return pd.DataFrame([{**asdict(p), "unrealized_pnl": p.unrealized_pnl}
                         for p in builders.position_lines(last, rows)],
                        columns=["symbol", "qty", "avg_price", "last_price", "market_value",
                                 "unrealized_pnl"])


def session_document(db: Engine, session_id) -> SessionDocument:
    """The session document of the CLI and the detail view: state, money, positions, metrics."""
    with Session(db) as s:
        row = _session_row(s, session_id)
        pending = s.execute(select(func.count()).select_from(Order).where(
            Order.session_id == row.id, Order.status.in_(WORKING_ORDER))).scalar_one()
        held = s.execute(select(Position.symbol, Position.qty, Position.avg_price,
                                Position.last_price)
                         .where(Position.session_id == row.id, Position.qty > 0)
                         .order_by(Position.symbol)).all()
        return builders.session_document(row.model_dump(), pending, held, session_hold(s))


def fill_count(db: Engine, session_id) -> int:
    """How many fills a session has (its fills' session index, not their rows)."""
    session_id = session_key(session_id)
    with Session(db) as s:
        _session_row(s, session_id)
        return s.execute(select(func.count()).select_from(Fill)
                         .where(Fill.session_id == session_id)).scalar_one()


def trades(db: Engine, session_id, limit: int | None = 500, offset: int = 0) -> pd.DataFrame:
    """Fills of a session, newest first after the newest `offset`, with the order's lineage
    (why it happened) and, for a manual order, who placed it (`by`)."""
    session_id = session_key(session_id)
    limit = None if limit is None else whole(limit, "limit", 1, MAX_ROWS)
    offset = whole(offset, "offset", 0, MAX_ID)
    query = (
        select(Fill.ts, Fill.bar_ts, Fill.symbol, Fill.side, Fill.qty, Fill.price, Fill.fee,
               Fill.realized_pnl, Fill.order_id, Order.reason, Order.lineage, Fill.priced_by,
               Order.requested_by)
        .join(Order, Order.id == Fill.order_id)
        .where(Fill.session_id == session_id)
        .order_by(Fill.id.desc())
    )
    if limit:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    with Session(db) as s:
        _session_row(s, session_id)
        rows = s.execute(query).all()
    return pd.DataFrame(rows, columns=["time", "bar_time", "symbol", "side", "qty", "price", "fee",
                                       "realized_pnl", "order_id", "reason", "lineage",
                                       "priced_by", "by"])


def orders(db: Engine, session_id, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    limit = whole(limit, "limit", 1, MAX_ROWS)
    if status is not None and status not in [s.value for s in OrderStatus]:
        raise BadInput(f"status must be one of {', '.join(s.value for s in OrderStatus)} "
                       f"(got {shown(status)})")
    parts = select(func.count()).where(Fill.order_id == Order.id).scalar_subquery()
    query = select(Order.id, Order.created_at, Order.symbol, Order.side, Order.order_type,
                   Order.qty, Order.filled_qty, Order.qty - Order.filled_qty, parts,
                   Order.status, Order.reason, Order.origin, Order.requested_by,
                   Order.decision_bar_ts).where(
        Order.session_id == session_key(session_id)).order_by(Order.id.desc()).limit(limit)
    if status:
        query = query.where(Order.status == status)
    with Session(db) as s:
        rows = s.execute(query).all()
    return pd.DataFrame(rows, columns=["id", "created_at", "symbol", "side", "type", "qty",
                                       "filled", "remaining", "fills", "status", "reason",
                                       "origin", "by", "decision_bar"])


def equity_curve(db: Engine, session_id, limit: int | None = 5000) -> pd.DataFrame:
    """The equity at each of the latest `limit` bars (None: all), oldest first, with drawdown
    in percent and n, the position among them (a sweep variant's recomputed by the core:
    engine.reads.curve)."""
    limit = None if limit is None else whole(limit, "limit", 1, MAX_ROWS)
    frame = pd.DataFrame(per_bar_curve(db, session_id, limit), columns=["ts", "cash", "equity"])
    peak = frame["equity"].cummax()
    frame["drawdown_pct"] = (frame["equity"] / peak - 1) * 100 if len(frame) else []
    frame["n"] = range(len(frame))
    return frame


def bars(db: Engine, symbol: str, timeframe: str, start=None, end=None,
         limit: int = 1000) -> pd.DataFrame:
    if not isinstance(symbol, str) or not 1 <= len(symbol) <= 32 or not symbol.isprintable():
        raise BadInput(f"symbol must be a symbol such as BTC-USD (got {shown(symbol)})")
    timeframe, limit = _timeframe(timeframe), whole(limit, "limit", 1, MAX_ROWS)
    start, end = _time(start, "start"), _time(end, "end")
    query = select(type_coerce(Bar.ts, String), Bar.open, Bar.high, Bar.low, Bar.close,
                   Bar.volume).where(Bar.symbol == symbol, Bar.timeframe == timeframe)
    if start is not None:
        query = query.where(Bar.ts >= start)
    if end is not None:
        query = query.where(Bar.ts <= end)
    with db.connect() as c:  # core rows, as plain tuples: a whole window is 20,000 of them
        rows = c.execute(query.order_by(Bar.ts.desc()).limit(limit)).all()
    frame = pd.DataFrame(map(tuple, reversed(rows)),
                         columns=["ts", "open", "high", "low", "close", "volume"])
    # times parsed by pandas at once (SQLite gives text): one by one they are most of the read
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    return frame


def sentiment_latest(db: Engine) -> pd.DataFrame:
    newest = select(func.max(SentimentScore.id)).group_by(SentimentScore.symbol)
    with Session(db) as s:
        rows = s.execute(select(SentimentScore.symbol, SentimentScore.ts, SentimentScore.score,
                                SentimentScore.label, SentimentScore.source,
                                SentimentScore.item_count, SentimentScore.headlines)
                         .where(SentimentScore.id.in_(newest))).all()
    return pd.DataFrame(rows, columns=["symbol", "ts", "score", "label", "source", "items",
                                       "headlines"])


def comparison(db: Engine, session_ids: list[int], history: Callable[[Engine, int], pd.DataFrame]
               = equity_curve) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Equity curves and metrics of several sessions on a common axis; each curve as
    `history(db, id)` reads it (ts, equity and n, the snapshot's position in its curve).

    Curves: market time `ts`, `bar` (bars since the session's start, 1 = its first bar) and
    `pct_from_start` (equity against starting cash, in %). Metrics carry each session's
    `window`: when they are all equal the curves share dates, otherwise compare by bar."""
    if not isinstance(session_ids, list | tuple) or len(session_ids) > MAX_COMPARED:
        raise BadInput(f"session_ids must be a list of at most {MAX_COMPARED} session ids "
                       f"(got {shown(session_ids)})")
    curves, metrics = [], []
    for sid in session_ids:
        doc = session_document(db, sid)
        label = f"#{sid} {doc.name}"
        curve = history(db, sid)
        if len(curve):
            curve["bar"] = doc.bars_done - curve["n"].iloc[-1] + curve["n"]
            curve["pct_from_start"] = (curve["equity"] / doc.starting_cash - 1) * 100
            curve["session"] = label
            curves.append(curve[["ts", "bar", "pct_from_start", "session"]])
        window = (f"{doc.timeframe} {doc.window_from:%Y-%m-%d %H:%M} – "
                  f"{doc.window_to:%Y-%m-%d %H:%M}" if doc.window_to else "live")
        metrics.append({"session": label, "strategy": doc.strategy,
                        "symbols": ", ".join(doc.symbols), "window": window,
                        **doc.metrics})
    curve_frame = pd.concat(curves) if curves else pd.DataFrame(
        columns=["ts", "bar", "pct_from_start", "session"])
    return curve_frame, pd.DataFrame(metrics)


# ---------------------------------------------------------------- events and logs


def events(db: Engine, limit: int = 100, severity: list[str] | None = None,
           source: str | None = None, text: str | None = None) -> pd.DataFrame:
    """The activity feed, newest first; filters run in SQL on indexed columns."""
    limit = whole(limit, "limit", 1, MAX_EVENTS)
    if severity is not None and (not isinstance(severity, list | tuple)
                                 or not all(v in SEVERITIES for v in severity)):
        raise BadInput(f"severity must be a list of {', '.join(SEVERITIES)} (got "
                       f"{shown(severity)})")
    source, text = optional_text(source, "source", 64), optional_text(text, "text", 200)
    query = select(Event.id, Event.ts, Event.severity, Event.source, Event.kind, Event.message)
    if severity:
        query = query.where(Event.severity.in_(severity))
    if source:
        query = query.where(Event.source == source)
    if text:
        query = query.where(Event.message.ilike(f"%{text}%"))
    with Session(db) as s:
        rows = s.execute(query.order_by(Event.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["id", "ts", "severity", "source", "kind", "message"])


def event_sources(db: Engine) -> list[str]:
    with Session(db) as s:
        agent_ids = list(s.execute(select(Agent.id)).scalars())
    return ["system", *agent_ids]


def log_ids(db: Engine, limit: int = 200) -> list[str]:
    """Log ids the viewer offers: the engine, every agent, the latest paper sessions (a
    sweep's variants write no log)."""
    limit = whole(limit, "limit", 1, MAX_ROWS)
    with Session(db) as s:
        agent_ids = list(s.execute(select(Agent.id)).scalars())
        session_ids = list(s.execute(select(PaperSession.id)
                                     .where(PaperSession.sweep_id.is_(None))
                                     .order_by(PaperSession.id.desc()).limit(limit)).scalars())
    return [*agent_ids, ENGINE_LOG, *(f"session-{i}" for i in session_ids)]


def available_symbols(db: Engine, timeframe: str) -> list[str]:
    """Symbols with shipped or imported data for `timeframe`, plus any the live feed has
    written."""
    timeframe = _timeframe(timeframe)
    with Session(db) as s:
        live = s.execute(select(Bar.symbol).where(Bar.timeframe == timeframe).distinct())
        return sorted(set(catalog.symbols(timeframe)) | set(live.scalars()))


def asset_classes(symbols: list[str] | tuple[str, ...], timeframe: str) -> tuple[str, ...]:
    """Each symbol's dataset's asset class (crypto, stock or fx), for its fee defaults."""
    return catalog.asset_classes(symbols, timeframe)


def datasets() -> list[dict]:
    return [{"symbol": s, "timeframe": tf} for s, tf in catalog.datasets()]


def workers(db: Engine) -> pd.DataFrame:
    """The engine workers sharing a PostgreSQL database (empty on SQLite: one engine)."""
    rows = [asdict(w) for w in fleet_workers(db)]
    return pd.DataFrame(rows, columns=["holder", "state", "sessions_owned", "datasets_owned",
                                       "jobs_running", "jobs_done", "age_s", "tick_p95_ms",
                                       "cpu_pct", "rss_mb"])
