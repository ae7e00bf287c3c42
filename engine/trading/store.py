"""Read a session's trading state from the database, and write what the core produced.

A batch — the orders, fills, order outcomes and equity snapshots of one or more bars, plus the
session's account and clock — commits in one transaction, so a crash can neither lose nor
repeat a fill, and a restarted engine continues from the last committed bar.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.broker.paper import ACCOUNT_FIELDS, fill_row, load_accounts, save_positions
from engine.core.lifecycle import WORKING_ORDER, OrderStatus
from engine.core.records import Intervention
from engine.core.trader import Ledger, Outbox, Trader, WorkingOrder
from engine.market import catalog
from engine.news.series import session_news
from engine.store.db import bulk_update, insert_raw, select_raw, stored_time, update_raw
from engine.store.models import Order, PaperSession
from engine.store.types import utcnow
from engine.trading.budget import reason, run_limited, user_code
from engine.trading.isolation import FAULTS

CLOCK_FIELDS = ("marked_equity", "peak_equity", "max_drawdown_pct", "ret_n", "ret_sum",
                "ret_sumsq", "bars_done", "last_price")
LEDGER_FIELDS = (*CLOCK_FIELDS, "first_price")


@dataclass
class Batch:
    """One session's output since its last commit."""

    session_id: int
    trader: Trader
    out: Outbox
    complete: bool = False
    dd_before: float = 0.0  # max drawdown % before these bars (for the drawdown alert)


def load_traders(s: Session, rows: list[PaperSession]
                 ) -> tuple[dict[int, Trader], dict[int, str]]:
    """Each session's Trader with its account, equity path and working orders as stored, in
    four queries for all of them (the caller primes their strategies on the bars); and why a
    session's strategy could not be built, by session."""
    ids = {row.id for row in rows}
    accounts = load_accounts(s, ids)
    working: dict[int, list[WorkingOrder]] = {sid: [] for sid in ids}
    for o in s.execute(select(Order).where(Order.session_id.in_(ids),
                                           Order.status.in_(WORKING_ORDER))).scalars():
        working[o.session_id].append(WorkingOrder(
            seq=o.seq, symbol=o.symbol, side=o.side, qty=o.qty, decision_ts=o.decision_bar_ts,
            order_type=o.order_type, limit_price=o.limit_price, stop_price=o.stop_price,
            reason=o.reason or "", lineage=o.lineage, filled=o.filled_qty, origin=o.origin,
            by=o.requested_by))
    last_seq = dict(s.execute(select(Order.session_id, func.max(Order.seq))
                              .where(Order.session_id.in_(ids)).group_by(Order.session_id)).all())
    traders, failures = {}, {}
    for row in rows:
        ledger = Ledger(**{f: getattr(row, f) for f in LEDGER_FIELDS}, last_ts=row.last_bar_at)
        ledger.first_price, ledger.last_price = dict(ledger.first_price), dict(ledger.last_price)
        settings = catalog.trade_settings(row)
        try:  # the strategy's constructor and warm-up rule run here: its faults are its own
            traders[row.id] = run_limited(
                user_code(row.strategy), 1, Trader, settings, accounts[row.id], ledger,
                working[row.id], (last_seq.get(row.id) or 0) + 1,
                news=session_news(s, settings),
                interventions=[Intervention.of(i) for i in row.interventions or []])
        except FAULTS as exc:
            failures[row.id] = reason(exc, row.strategy, None)
    return traders, failures


SPANS_PER_QUERY = 200  # sessions whose order ids one statement reads (_fill_rows)
ORDER_SPAN = "(session_id = ? AND seq BETWEEN ? AND ?)"
ORDER_COLUMNS = ("session_id", "seq", "symbol", "side", "order_type", "qty", "filled_qty",
                 "limit_price", "stop_price", "status", "decision_bar_ts", "created_at",
                 "closed_at", "reason", "lineage", "origin", "requested_by")
FILL_COLUMNS = ("order_id", "session_id", "symbol", "side", "qty", "price", "fee",
                "realized_pnl", "priced_by", "bar_ts", "ts")


def _working_status(filled: float) -> str:
    return str(OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.PENDING)


def _order_rows(batch: Batch, stamp: Any, stored: dict[datetime, Any]) -> list[tuple]:
    """The batch's new orders as ORDER_COLUMNS tuples, each with its outcome so far."""
    outcome = {seq: (status, why) for seq, status, why in batch.out.closed}
    progress = batch.out.filled
    rows = []
    for o in batch.out.orders:
        filled = progress.get(o.seq, 0.0)
        status, why = outcome.get(o.seq, (None, None))
        rows.append((
            batch.session_id, o.seq, o.symbol, o.side, o.order_type, o.qty, filled,
            o.limit_price, o.stop_price, status or _working_status(filled),
            stored[o.decision_ts], stamp, None if status is None else stamp,
            why or o.reason, json.dumps(o.lineage), o.origin, o.by))
    return rows


def _update_earlier_orders(s: Session, batches: list[Batch], now: datetime) -> None:
    """Record what became of the orders decided in an earlier batch: filled in part, filled,
    cancelled or rejected (with the reason)."""
    rows = []
    for b in batches:
        if not (b.out.closed or b.out.filled):
            continue
        new = {o.seq for o in b.out.orders}
        changed: dict[int, dict] = {}
        for seq, status, why in b.out.closed:
            if seq not in new:
                changed[seq] = {"status": status, "closed_at": now} | (
                    {"reason": why} if why else {})
        for seq, qty in b.out.filled.items():
            if seq not in new:
                changed.setdefault(seq, {"status": _working_status(qty)})["filled_qty"] = qty
        rows += [{"session_id": b.session_id, "seq": seq, **values}
                 for seq, values in changed.items()]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:  # one executemany per set of columns
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        bulk_update(s, Order, group, keys=("session_id", "seq"))


def _fill_rows(s: Session, batches: list[Batch], now: datetime) -> list[dict]:
    """The batches' fills as fill rows, each with its order's id. The ids are read by each
    session's range of filled order numbers (a few bound values a session, on the
    (session_id, seq) index), not by every pair: a sweep variant fills hundreds of orders.
    SPANS_PER_QUERY sessions a statement: SQLite refuses an expression deeper than 1,000."""
    spans = [(b.session_id, min(seqs), max(seqs)) for b in batches
             if (seqs := [f.seq for f in b.out.fills])]
    ids = {}
    for at in range(0, len(spans), SPANS_PER_QUERY):
        part = spans[at:at + SPANS_PER_QUERY]
        ids.update({(sid, seq): oid for oid, sid, seq in select_raw(
            s, "SELECT id, session_id, seq FROM trade_order WHERE "
               + " OR ".join([ORDER_SPAN] * len(part)), [v for span in part for v in span])})
    return [fill_row(f, order_id=ids[(b.session_id, f.seq)], session_id=b.session_id, ts=now)
            for b in batches for f in b.out.fills]


SNAPSHOT_COLUMNS = ("session_id", "ts", "cash", "equity")
SNAPSHOT_TYPES = ("int4", "timestamptz", "float8", "float8")  # PostgreSQL's, for a binary COPY
ROW_CLOCK = (*CLOCK_FIELDS, "equity", "last_bar_at", "wait_reason")
ROW_FULL = (*ROW_CLOCK, *ACCOUNT_FIELDS, "first_price")
_ledger_values = attrgetter(*CLOCK_FIELDS[:-1])  # the clock's values but its last prices
_account_values = attrgetter(*ACCOUNT_FIELDS)


def _session_row(b: Batch, full: bool, stored: dict[datetime, Any], bind: Any) -> tuple:
    """The session's clock and equity path (ROW_CLOCK); with `full`, its account and first
    prices too (ROW_FULL); then its id: values in the driver's form."""
    account, ledger = b.trader.account, b.trader.ledger
    last = ledger.last_ts
    row = (*_ledger_values(ledger), json.dumps(ledger.last_price), ledger.marked_equity,
           None if last is None else stored.get(last) or stored_time(bind, last), None)
    if full:
        row += (*_account_values(account), json.dumps(ledger.first_price))
    return (*row, b.session_id)


def needs_full_row(b: Batch) -> bool:
    """Cash and statistics change only with fills; first prices only on the first bars (a
    completed batch writes them all: a sweep variant's snapshots are fewer than its bars)."""
    return bool(b.out.fills) or b.complete or len(b.trader.ledger.first_price) < len(
        b.trader.settings.symbols) or b.trader.ledger.bars_done == len(b.out.snapshots)


def write_batches(s: Session, batches: list[Batch], stored: dict[datetime, Any]) -> list[dict]:
    """Persist every batch inside the caller's transaction; return the fill rows written.
    `stored` maps each bar time to its stored form (equity snapshots reuse it as is)."""
    now = utcnow()
    stamp = stored_time(s.get_bind(), now)
    insert_raw(s, "trade_order", ORDER_COLUMNS,
               [row for b in batches for row in _order_rows(b, stamp, stored)])
    _update_earlier_orders(s, batches, now)
    fills = _fill_rows(s, batches, now)
    insert_raw(s, "fill", FILL_COLUMNS, [
        (*(f[c] for c in FILL_COLUMNS[:-2]), stored[f["bar_ts"]], stamp) for f in fills])
    insert_raw(s, "equity_snapshot", SNAPSHOT_COLUMNS, [
        (b.session_id, stored[ts], cash, equity)
        for b in batches for ts, cash, equity in b.out.snapshots], SNAPSHOT_TYPES)
    bind, rows = s.get_bind(), {True: [], False: []}
    for b in batches:
        full = needs_full_row(b)
        rows[full].append(_session_row(b, full, stored, bind))
    update_raw(s, "paper_session", ROW_FULL, rows[True])
    update_raw(s, "paper_session", ROW_CLOCK, rows[False])
    traded = [b for b in batches if b.out.fills]
    save_positions(s, {b.session_id: b.trader.account for b in traded},
                   {b.session_id: b.trader.ledger.last_price for b in traded})
    return fills
