"""Read a session's trading state from the database, and write what the core produced.

A batch — the orders, fills, order outcomes and equity snapshots of one or more bars, plus the
session's account and clock — commits in one transaction, so a crash can neither lose nor
repeat a fill, and a restarted engine continues from the last committed bar.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlmodel import Session

from engine.broker.paper import ACCOUNT_FIELDS, load_accounts, save_positions
from engine.core.settings import TradeSettings
from engine.core.trader import Ledger, Outbox, Trader, WorkingOrder
from engine.db import bulk_insert, bulk_update
from engine.db_types import utcnow
from engine.lifecycle import OrderStatus
from engine.models import EquitySnapshot, Fill, Order, PaperSession

LEDGER_FIELDS = ("marked_equity", "peak_equity", "max_drawdown_pct", "ret_n", "ret_sum",
                 "ret_sumsq", "bars_done", "first_price", "last_price")


@dataclass
class Batch:
    """One session's output since its last commit."""

    session_id: int
    trader: Trader
    out: Outbox
    complete: bool = False
    dd_before: float = 0.0  # max drawdown % before these bars (for the drawdown alert)


def load_trader(s: Session, row: PaperSession) -> Trader:
    """The session's Trader with its account, equity path and working orders as stored (the
    caller primes its strategies on the bars)."""
    account = load_accounts(s, {row.id})[row.id]
    ledger = Ledger(**{f: getattr(row, f) for f in LEDGER_FIELDS}, last_ts=row.last_bar_at)
    ledger.first_price, ledger.last_price = dict(ledger.first_price), dict(ledger.last_price)
    working = [
        WorkingOrder(seq=o.seq, symbol=o.symbol, side=o.side, qty=o.qty,
                     decision_ts=o.decision_bar_ts, order_type=o.order_type,
                     limit_price=o.limit_price, stop_price=o.stop_price, reason=o.reason or "",
                     lineage=o.lineage)
        for o in s.execute(select(Order).where(Order.session_id == row.id,
                                               Order.status == OrderStatus.PENDING)).scalars()
    ]
    last_seq = s.execute(select(func.max(Order.seq)).where(Order.session_id == row.id)).scalar()
    return Trader(TradeSettings.of(row), account, ledger, working, (last_seq or 0) + 1)


def _order_rows(batch: Batch, now: datetime) -> list[dict]:
    outcome = {seq: (status, why) for seq, status, why in batch.out.closed}
    rows = []
    for o in batch.out.orders:
        status, why = outcome.get(o.seq, (OrderStatus.PENDING, None))
        rows.append({
            "session_id": batch.session_id, "seq": o.seq, "symbol": o.symbol, "side": o.side,
            "order_type": o.order_type, "qty": o.qty, "limit_price": o.limit_price,
            "stop_price": o.stop_price, "status": status, "decision_bar_ts": o.decision_ts,
            "created_at": now, "closed_at": None if status == OrderStatus.PENDING else now,
            "reason": why or o.reason, "lineage": o.lineage,
        })
    return rows


def _close_earlier_orders(s: Session, batches: list[Batch], now: datetime) -> None:
    """Mark filled or rejected the orders decided in an earlier batch."""
    filled, rejected = [], []
    for b in batches:
        new = {o.seq for o in b.out.orders}
        for seq, status, why in b.out.closed:
            if seq in new:
                continue
            row = {"session_id": b.session_id, "seq": seq, "status": status, "closed_at": now}
            if why is None:
                filled.append(row)
            else:
                rejected.append({**row, "reason": why})
    bulk_update(s, Order, filled, keys=("session_id", "seq"))
    bulk_update(s, Order, rejected, keys=("session_id", "seq"))


def _fill_rows(s: Session, batches: list[Batch], now: datetime) -> list[dict]:
    wanted = [(b.session_id, f["seq"]) for b in batches for f in b.out.fills]
    if not wanted:
        return []
    ids = {(sid, seq): oid for oid, sid, seq in s.execute(
        select(Order.id, Order.session_id, Order.seq)
        .where(tuple_(Order.session_id, Order.seq).in_(wanted)))}
    return [{"order_id": ids[(b.session_id, f["seq"])], "session_id": b.session_id,
             "symbol": f["symbol"], "side": f["side"], "qty": f["qty"], "price": f["price"],
             "fee": f["fee"], "realized_pnl": f["realized_pnl"], "bar_ts": f["bar_ts"], "ts": now}
            for b in batches for f in b.out.fills]


def _session_row(b: Batch) -> dict:
    account, ledger = b.trader.account, b.trader.ledger
    return {"id": b.session_id, **{f: getattr(account, f) for f in ACCOUNT_FIELDS},
            **{f: getattr(ledger, f) for f in LEDGER_FIELDS},
            "equity": ledger.marked_equity, "last_bar_at": ledger.last_ts, "wait_reason": None}


def write_batches(s: Session, batches: list[Batch]) -> list[dict]:
    """Persist every batch inside the caller's transaction; return the fill rows written."""
    now = utcnow()
    bulk_insert(s, Order, [row for b in batches for row in _order_rows(b, now)])
    _close_earlier_orders(s, batches, now)
    fills = _fill_rows(s, batches, now)
    bulk_insert(s, Fill, fills)
    bulk_insert(s, EquitySnapshot, [
        {"session_id": b.session_id, "ts": ts, "cash": cash, "equity": equity}
        for b in batches for ts, cash, equity in b.out.snapshots])
    bulk_update(s, PaperSession, [_session_row(b) for b in batches])
    traded = {b.session_id: b.trader.account for b in batches if b.out.fills}
    save_positions(s, traded, {b.session_id: b.trader.ledger.last_price for b in batches})
    return fills
