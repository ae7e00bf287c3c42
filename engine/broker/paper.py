"""The paper broker against the database: submit, fill, cancel and close, one transaction each."""

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from engine.broker.fills import OrderTerms, fill_price
from engine.broker.portfolio import Account, Holding, apply_fill, executable_qty
from engine.db import bulk_insert, bulk_update, session_scope, upsert_insert
from engine.db_types import utcnow
from engine.lifecycle import OrderStatus, SessionStatus
from engine.market.bars import bars_after, latest_closes
from engine.models import Fill, Order, PaperSession, Position
from engine.strategies import BarData

# Engine threads that change orders, fills, positions or cash (execution, strategy, session
# commands) hold this, so a stop's cancellation and a fill cannot interleave.
BOOK_LOCK = threading.Lock()

ACCOUNT_FIELDS = ("cash", "realized_pnl", "fees_paid", "trade_count", "wins", "losses",
                  "gross_profit", "gross_loss", "loss_streak")


@dataclass
class FillReport:
    fills: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    loss_streaks: dict[int, int] = field(default_factory=dict)


def load_accounts(s: Session, session_ids: set[int]) -> dict[int, Account]:
    """Cash, statistics and holdings of the given sessions."""
    if not session_ids:
        return {}
    cols = [getattr(PaperSession, f) for f in ACCOUNT_FIELDS]
    rows = s.execute(select(PaperSession.id, *cols).where(PaperSession.id.in_(session_ids)))
    accounts = {row[0]: Account(**dict(zip(ACCOUNT_FIELDS, row[1:], strict=True))) for row in rows}
    positions = s.execute(
        select(Position.session_id, Position.symbol, Position.qty, Position.avg_price).where(
            Position.session_id.in_(session_ids)
        )
    )
    for sid, symbol, qty, avg in positions:
        accounts[sid].holdings[symbol] = Holding(qty, avg)
    return accounts


def save_accounts(s: Session, accounts: dict[int, Account], timeframes: dict[int, str]) -> None:
    """Write cash, statistics and holdings back; equity is revalued at the last closes so
    equity = cash + Σ qty × last close holds the moment the fill commits."""
    if not accounts:
        return
    keys = {(sym, timeframes[sid]) for sid, a in accounts.items() for sym in a.holdings}
    closes = latest_closes(s, keys)

    def last(sid: int, sym: str, holding: Holding) -> float:
        return closes.get((sym, timeframes[sid]), holding.avg_price)

    bulk_update(s, PaperSession, [
        {"id": sid, **{f: getattr(a, f) for f in ACCOUNT_FIELDS},
         "equity": a.cash + sum(h.qty * last(sid, sym, h) for sym, h in a.holdings.items())}
        for sid, a in accounts.items()
    ])
    rows = [
        {"session_id": sid, "symbol": sym, "qty": h.qty, "avg_price": h.avg_price,
         "last_price": last(sid, sym, h)}
        for sid, a in accounts.items() for sym, h in a.holdings.items()
    ]
    if rows:
        stmt = upsert_insert(s, Position)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["session_id", "symbol"],
                set_={"qty": stmt.excluded.qty, "avg_price": stmt.excluded.avg_price,
                      "last_price": stmt.excluded.last_price},
            ),
            rows,
        )


def submit_orders(s: Session, orders: list[dict]) -> None:
    """Add pending orders (session_id, symbol, side, qty, decision_bar_ts, reason, lineage…)."""
    now = utcnow()
    bulk_insert(s, Order, [{"order_type": "market", "limit_price": None, "stop_price": None,
                            "lineage": {}, "status": OrderStatus.PENDING, "created_at": now, **o}
                           for o in orders])


def _first_fill(order, bars: list[BarData], slippage_bps: float) -> tuple[BarData, float] | None:
    terms = OrderTerms(order.side, order.order_type, order.decision_bar_ts, order.limit_price,
                       order.stop_price)
    for bar in bars:
        price = fill_price(terms, bar, slippage_bps)
        if price is not None:
            return bar, price
    return None


def _pending_orders(s: Session) -> list:
    """Pending orders of running sessions, oldest first (paused sessions' orders are held)."""
    return list(
        s.execute(
            select(Order, PaperSession.timeframe, PaperSession.fee_bps,
                   PaperSession.slippage_bps)
            .join(PaperSession, PaperSession.id == Order.session_id)
            .where(Order.status == OrderStatus.PENDING,
                   PaperSession.status == SessionStatus.RUNNING)
            .order_by(Order.id)
        )
    )


def execute_pending(db: Engine) -> FillReport:
    """Fill every pending order whose next bar has arrived: fills, orders, positions and cash
    change in one transaction, so a crash can neither lose nor repeat a fill."""
    report = FillReport()
    with session_scope(db) as s:
        pending = _pending_orders(s)
        if not pending:
            return report
        oldest: dict[tuple[str, str], datetime] = {}
        for order, timeframe, _, _ in pending:
            key = (order.symbol, timeframe)
            oldest[key] = min(oldest.get(key, order.decision_bar_ts), order.decision_bar_ts)
        bars = {key: bars_after(db, *key, since, limit=500) for key, since in oldest.items()}
        accounts = load_accounts(s, {o.session_id for o, *_ in pending})
        timeframes = {o.session_id: tf for o, tf, *_ in pending}
        now = utcnow()
        order_updates = []
        for order, timeframe, fee_bps, slippage_bps in pending:
            hit = _first_fill(order, bars[(order.symbol, timeframe)], slippage_bps)
            if hit is None:
                continue
            bar, price = hit
            account = accounts[order.session_id]
            qty = executable_qty(account, order.symbol, order.side, order.qty, price, fee_bps)
            if qty == 0:
                reason = "no cash to buy" if order.side == "buy" else "nothing to sell"
                order_updates.append({"id": order.id, "status": OrderStatus.REJECTED,
                                      "closed_at": now, "reason": reason})
                report.rejected.append({"order_id": order.id, "session_id": order.session_id,
                                        "symbol": order.symbol, "reason": reason})
                continue
            cost, realized = apply_fill(account, order.symbol, order.side, qty, price, fee_bps)
            fill = {"order_id": order.id, "session_id": order.session_id, "symbol": order.symbol,
                    "side": order.side, "qty": qty, "price": price, "fee": cost,
                    "realized_pnl": realized, "bar_ts": bar.ts, "ts": now}
            report.fills.append(fill)
            order_updates.append({"id": order.id, "status": OrderStatus.FILLED, "closed_at": now})
        if order_updates:
            bulk_insert(s, Fill, report.fills)
            bulk_update(s, Order, [u for u in order_updates if "reason" not in u])
            bulk_update(s, Order, [u for u in order_updates if "reason" in u])
            touched = {f["session_id"] for f in report.fills}
            report.loss_streaks = {sid: accounts[sid].loss_streak for sid in touched}
            save_accounts(s, {k: v for k, v in accounts.items() if k in touched}, timeframes)
    return report


def cancel_open_orders(s: Session, session_id: int) -> int:
    """Cancel a session's pending orders inside the caller's transaction."""
    result = s.execute(
        update(Order)
        .where(Order.session_id == session_id, Order.status == OrderStatus.PENDING)
        .values(status=OrderStatus.CANCELLED, closed_at=utcnow(), reason="session stopped")
    )
    return result.rowcount or 0


def close_positions(s: Session, session: PaperSession) -> list[dict]:
    """Sell every holding at its last price (slipped, with fee) inside the caller's transaction."""
    accounts = load_accounts(s, {session.id})
    account = accounts[session.id]
    closes = latest_closes(s, {(sym, session.timeframe) for sym in account.holdings})
    prices = {sym: price for (sym, _), price in closes.items()}
    fills, now = [], utcnow()
    for symbol, holding in list(account.holdings.items()):
        if holding.qty <= 0 or symbol not in prices:
            continue
        price = prices[symbol] * (1 - session.slippage_bps / 10_000)
        qty = holding.qty
        order = Order(session_id=session.id, symbol=symbol, side="sell", qty=qty,
                      status=OrderStatus.FILLED, decision_bar_ts=session.last_bar_at or now,
                      closed_at=now, reason="close on stop",
                      lineage={"rule": "session stopped with close positions",
                               "last_price": prices[symbol]})
        s.add(order)
        s.flush()
        cost, realized = apply_fill(account, symbol, "sell", qty, price, session.fee_bps)
        fills.append({"order_id": order.id, "session_id": session.id, "symbol": symbol,
                      "side": "sell", "qty": qty, "price": price, "fee": cost,
                      "realized_pnl": realized, "bar_ts": session.last_bar_at or now, "ts": now})
    if fills:
        bulk_insert(s, Fill, fills)
        save_accounts(s, accounts, {session.id: session.timeframe})
    return fills


def pending_counts(s: Session) -> dict[int, set[str]]:
    """Symbols with a pending order, per session (no second order while one waits)."""
    out: dict[int, set[str]] = defaultdict(set)
    for sid, symbol in s.execute(
        select(Order.session_id, Order.symbol).where(Order.status == OrderStatus.PENDING)
    ):
        out[sid].add(symbol)
    return out
