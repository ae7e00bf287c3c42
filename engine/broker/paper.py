"""The paper broker's book in the database: accounts, positions, cancelling and closing.

Fill simulation and accounting are the trading core's (engine/core); the per-bar fills of
running sessions are written by engine/trading/store.py.
"""

import threading
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from engine.core.fills import slipped
from engine.core.lifecycle import WORKING_ORDER, OrderStatus
from engine.core.portfolio import Account, Holding, apply_fill
from engine.core.records import FillRecord
from engine.store.db import bulk_insert, upsert_insert
from engine.store.models import Fill, Order, PaperSession, Position
from engine.store.types import utcnow

# Engine threads that change orders, fills, positions or cash (execution, strategy, session
# commands) hold this, so a stop's cancellation and a fill cannot interleave.
BOOK_LOCK = threading.Lock()

ACCOUNT_FIELDS = ("cash", "realized_pnl", "fees_paid", "trade_count", "wins", "losses",
                  "gross_profit", "gross_loss", "loss_streak")


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


def save_positions(s: Session, accounts: dict[int, Account],
                   last_prices: dict[int, dict[str, float]]) -> None:
    """Upsert the holdings of the given sessions, each valued at its session's last close."""
    rows = [
        {"session_id": sid, "symbol": sym, "qty": h.qty, "avg_price": h.avg_price,
         "last_price": last_prices[sid].get(sym, h.avg_price)}
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


def cancel_open_orders(s: Session, session_id: int) -> int:
    """Cancel a session's pending orders inside the caller's transaction."""
    result = s.execute(
        update(Order)
        .where(Order.session_id == session_id, Order.status.in_(WORKING_ORDER))
        .values(status=OrderStatus.CANCELLED, closed_at=utcnow(), reason="session stopped")
    )
    return result.rowcount or 0


def fill_row(fill: FillRecord, *, order_id: int, session_id: int, ts: datetime) -> dict:
    """`fill` as a row of the fill table, booked at `ts`."""
    return {"order_id": order_id, "session_id": session_id, "symbol": fill.symbol,
            "side": fill.side, "qty": fill.qty, "price": fill.price, "fee": fill.fee,
            "realized_pnl": fill.realized_pnl, "priced_by": fill.priced_by,
            "bar_ts": fill.bar_ts, "ts": ts}


def close_positions(s: Session, session: PaperSession) -> list[FillRecord]:
    """Sell every holding at the session's last close (slipped, with fee) inside the caller's
    transaction; the orders continue the session's order numbers."""
    accounts = load_accounts(s, {session.id})
    account = accounts[session.id]
    prices = session.last_price or {}
    seq = s.execute(select(func.max(Order.seq)).where(Order.session_id == session.id)).scalar()
    fills, rows, now = [], [], utcnow()
    bar_ts = session.last_bar_at or now
    for symbol, holding in list(account.holdings.items()):
        if holding.qty <= 0 or symbol not in prices:
            continue
        seq = (seq or 0) + 1
        price = slipped(prices[symbol], "sell", session.slippage_bps)
        qty = holding.qty
        order = Order(session_id=session.id, seq=seq, symbol=symbol, side="sell", qty=qty,
                      filled_qty=qty, status=OrderStatus.FILLED, decision_bar_ts=bar_ts,
                      closed_at=now, reason="close on stop",
                      lineage={"rule": "session stopped with close positions",
                               "last_price": prices[symbol]})
        s.add(order)
        s.flush()
        cost, realized = apply_fill(account, symbol, side="sell", qty=qty, price=price,
                                    fee_bps=session.fee_bps)
        fills.append(FillRecord(
            seq, symbol, "sell", qty, price, cost, realized, bar_ts, account.loss_streak,
            f"close on stop: last close, {session.slippage_bps:g} bps slippage, "
            f"fee {session.fee_bps:g} bps"))
        rows.append(fill_row(fills[-1], order_id=order.id, session_id=session.id, ts=now))
    if fills:
        bulk_insert(s, Fill, rows)
        for f in ACCOUNT_FIELDS:
            setattr(session, f, getattr(account, f))
        session.equity = account.equity(prices)
        s.add(session)
        save_positions(s, accounts, {session.id: prices})
    return fills
