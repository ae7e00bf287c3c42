"""One commit of many sessions' fills (as a tick at thousands of sessions, or a sweep's
writer, makes): every fill is booked against its own session's order, however many sessions
the commit holds (engine.trading.store reads the order ids SPANS_PER_QUERY sessions a
statement; one statement for them all would exceed SQLite's expression depth)."""

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from engine.core.trader import Outbox
from engine.store.models import EquitySnapshot, Fill, Order
from engine.trading import clock as clock_module
from engine.trading.clock import SessionBook
from engine.trading.store import SPANS_PER_QUERY, Batch
from tests.conftest import replay_session, store_bars


def test_one_commit_books_the_fills_of_more_sessions_than_one_statement_reads(db):
    store_bars(db, ("BTC-USD", "1h"))
    spec = {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-02-01"}
    sids = [replay_session(db, spec, to_end=False) for _ in range(SPANS_PER_QUERY + 20)]
    book = SessionBook(db)
    batches = []
    for sid in sids:
        clock = book.load(sid)
        batch = Batch(sid, clock.trader, Outbox())
        clock.advance(400, batch.out)
        batches.append(batch)
    assert all(b.out.fills for b in batches)
    book.commit(batches)
    with Session(db) as s:
        booked = s.execute(select(Fill.session_id, Order.session_id, Order.seq, Fill.bar_ts)
                           .join(Order, Order.id == Fill.order_id)).all()
    assert all(fill_sid == order_sid for fill_sid, order_sid, _, _ in booked)
    assert sorted((sid, seq, ts) for sid, _, seq, ts in booked) == sorted(
        (b.session_id, f.seq, f.bar_ts) for b in batches for f in b.out.fills)
    assert Counter(sid for sid, *_ in booked) == {b.session_id: len(b.out.fills)
                                                  for b in batches}


def test_a_tick_commits_its_sessions_a_chunk_a_transaction(db, monkeypatch):
    """A command waits for one chunk's write, never the whole tick's: while the second chunk is
    being written the first is already visible to another connection, and every batch is kept,
    written once and described once."""
    monkeypatch.setattr(clock_module, "COMMIT_CHUNK", 3)
    store_bars(db, ("BTC-USD", "1h"))
    spec = {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-02-01"}
    sids = [replay_session(db, spec, to_end=False) for _ in range(7)]
    book = SessionBook(db)
    batches = []
    for sid in reversed(sids):  # committed in id order whatever the order given
        clock = book.load(sid)
        batch = Batch(sid, clock.trader, Outbox())
        clock.advance(50, batch.out)
        batches.append(batch)
    described, seen = [], []

    def describe(chunk):
        described.append([b.session_id for b in chunk])
        with Session(db) as other:
            seen.append(set(other.execute(select(EquitySnapshot.session_id).distinct())
                            .scalars()))
        return []

    result = book.commit(batches, describe)
    assert described == [sids[:3], sids[3:6], sids[6:]]
    assert seen == [set(), set(sids[:3]), set(sids[:6])]
    assert sorted(b.session_id for b in result.batches) == sids
    with Session(db) as s:
        counts = dict(s.execute(select(EquitySnapshot.session_id, func.count())
                                .group_by(EquitySnapshot.session_id)).all())
    assert counts == {sid: 50 for sid in sids}


def test_a_commit_chunk_reads_its_sessions_by_key_range_not_by_status(db):
    """Each chunk of a tick's commit reads its sessions' revisions: on SQLite (no statistics)
    the status index would walk every running session for every chunk."""
    if db.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan: PostgreSQL's planner has statistics")
    store_bars(db, ("BTC-USD", "1h"))
    replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-02-01"},
                   to_end=False)
    with db.connect() as c:
        plan = " | ".join(row[3] for row in c.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {clock_module.CHUNK_REVISIONS['sqlite']}",
            (1, 500, clock_module.RUNNING)))
    assert "INTEGER PRIMARY KEY" in plan, plan
    assert "status" not in plan, plan
