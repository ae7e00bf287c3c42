"""Bounded reads (issue 21): the Agents page's flow counts and every page's system summary
seek the recent fills by time instead of walking every fill — each statement they run is
explained by SQLite itself — and still count the recent fills."""

import os

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from engine.reads.status import flow_counts
from engine.reads.summary import system_summary
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
    counts, plans = _fill_plans(db, flow_counts)
    assert counts.fills == {sid: fills}  # stamped when written: just now
    assert plans
    for plan in plans:
        assert "SCAN fill" not in plan, plan


def _fill_plans(db, read) -> tuple[object, list[str]]:
    """What `read(db)` returns, and SQLite's plan of each statement it runs on the fills."""
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db, "before_cursor_execute", seen)
    try:
        value = read(db)
    finally:
        event.remove(db, "before_cursor_execute", seen)
    with db.connect() as conn:
        return value, [" | ".join(row[3] for row in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}", tuple(params)))
            for sql, params in statements if "FROM fill" in sql]


@pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")),
                    reason="SQLite's query plan: the walk it avoids was SQLite's choice of index")
def test_system_summary_counts_the_last_hours_fills_by_their_time_index(db):
    """It used to join from the sessions (sweep_id IS NULL) and walk every fill of each:
    1,000,000 fills for an hour's count."""
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-03-01"})
    with Session(db) as s:
        fills = s.execute(select(func.count()).where(Fill.session_id == sid)).scalar_one()
    summary, plans = _fill_plans(db, system_summary)
    assert (summary.fills_last_hour, summary.sweep_fills_last_hour) == (fills, 0)
    assert plans
    for plan in plans:
        assert "fill USING INDEX ix_fill_ts" in plan, plan
