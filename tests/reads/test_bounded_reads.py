"""Bounded reads (issue 21): the Agents page's flow counts seek the recent fills by time
instead of scanning every fill — each statement it runs is explained by SQLite itself — and
still count each session's recent fills."""

import os

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from engine.reads.status import flow_counts
from engine.store.models import Fill
from tests.conftest import replay_session, store_bars


@pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")),
                    reason="SQLite's query plan: the scan it avoids was SQLite's choice of index")
def test_flow_counts_count_recent_fills_without_scanning_the_fill_table(db):
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-03-01"})
    with Session(db) as s:
        fills = s.execute(select(func.count()).where(Fill.session_id == sid)).scalar_one()
    assert fills > 0
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db, "before_cursor_execute", seen)
    try:
        counts = flow_counts(db)
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert counts.fills == {sid: fills}  # stamped when written: just now
    touching = [(sql, params) for sql, params in statements if "FROM fill" in sql]
    assert touching
    with db.connect() as conn:
        for sql, params in touching:
            plan = " | ".join(row[3] for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", tuple(params)))
            assert "SCAN fill" not in plan, plan
