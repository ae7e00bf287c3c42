"""Bounded reads (issue 21): the Agents page's flow counts and every page's system summary
seek the recent fills by time instead of walking every fill — each statement they run is
explained by SQLite itself — and still count the recent fills."""

import os

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session

from engine.control import sweeps
from engine.control.actions import acknowledge_alerts
from engine.reads import plain
from engine.reads.status import alert_groups, flow_counts, health
from engine.reads.summary import system_summary
from engine.store.db import session_scope
from engine.store.events import record_events
from engine.store.models import Bar, Fill, PaperSession
from engine.sweeps.runner import run_sweep
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
    return _plans(db, read, "FROM fill")


def _plans(db, read, table: str) -> tuple[object, list[str]]:
    """What `read(db)` returns, and SQLite's plan of each statement it runs with `table`."""
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
            for sql, params in statements if table in sql]


@pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")),
                    reason="SQLite's query plan: the walk it avoids was SQLite's choice of index")
def test_system_summary_counts_the_last_hours_fills_by_their_time_index(db):
    """It used to join each of the hour's fills to its session (tens of thousands on a busy
    engine): now every fill of the hour is counted on the time index alone, and only the
    variants of sweeps that ran within the hour are sought by session."""
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-03-01"})
    sweep = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                     "from": "2019-01-01", "to": "2019-02-01",
                                     "grid": {"fast": "3:5:1", "slow": "20"}}).id
    assert run_sweep(db, sweep, workers=1) == "completed"
    with Session(db) as s:
        fills = s.execute(select(func.count()).where(Fill.session_id == sid)).scalar_one()
        swept = s.execute(select(func.count()).select_from(Fill).join(
            PaperSession, PaperSession.id == Fill.session_id)
            .where(PaperSession.sweep_id == sweep)).scalar_one()
    assert swept > 0
    summary, plans = _fill_plans(db, system_summary)
    assert (summary.fills_last_hour, summary.sweep_fills_last_hour) == (fills, swept)
    assert len(plans) == 2
    everything, of_sweeps = sorted(plans, key=lambda plan: "sweep" in plan)
    assert "fill USING COVERING INDEX ix_fill_ts" in everything, everything
    assert "fill USING INDEX ix_fill_session_id (session_id=?)" in of_sweeps, of_sweeps
    assert "paper_session USING COVERING INDEX ix_paper_session_sweep_id (sweep_id=?)" in \
        of_sweeps, of_sweeps


@pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")),
                    reason="SQLite's query plan: the scan it avoids was SQLite's choice of index")
def test_health_seeks_each_datasets_newest_bar(db):
    """The overview's and `health`'s data freshness used to group the whole bar table (every
    bar ever stored); now each dataset is found and its newest bar read by seeks on the bar
    key, one statement a dataset and one that finds none after the last, each seeking past
    the previous dataset's newest bar rather than stepping over its bars."""
    store_bars(db)
    with Session(db) as s:
        grouped = s.execute(select(Bar.symbol, Bar.timeframe, func.max(Bar.ts))
                            .group_by(Bar.symbol, Bar.timeframe)
                            .order_by(Bar.symbol, Bar.timeframe)).all()
    assert len(grouped) > 1
    for read in (health, plain.health):
        shown, plans = _plans(db, read, "FROM bar")
        assert [(d["symbol"], d["timeframe"], d["last_bar"]) for d in shown.data] == \
            [tuple(row) for row in grouped]
        assert len(plans) == len(grouped) + 1
        first, *after = plans  # the first dataset: the first entry of the bar key (LIMIT 1)
        assert first.startswith("SCAN bar USING COVERING INDEX"), first
        for plan in after:
            assert plan.startswith("SEARCH bar USING COVERING INDEX"), plan
            assert "((symbol,timeframe,ts)>(?,?,?))" in plan, plan
        for plan in plans:
            assert "SEARCH b USING COVERING INDEX" in plan, plan


def test_alert_groups_read_only_the_alert_events_and_honour_acknowledgements(db):
    """The groups count each (source, kind)'s warnings and errors after its latest
    acknowledgement; on SQLite with statistics the scan is of the alerts' partial index, where
    it used to walk every event in source order."""
    with session_scope(db) as s:
        record_events(s, [(f"session-{k % 3}", "fill", f"info {k}", "info") for k in range(60)]
                      + [("session-1", "fill", "slow", "warning")] * 2
                      + [("session-2", "feed", "down", "error")] * 3)
    acknowledge_alerts(db, [g for g in alert_groups(db) if g.source == "session-1"])
    with session_scope(db) as s:
        record_events(s, [("session-2", "feed", "down again", "error")])
    on_sqlite = not os.environ.get("PAPERDESK_TEST_PG_URL")
    if on_sqlite:
        with db.begin() as conn:  # statistics, as a long-lived database has them
            conn.exec_driver_sql("ANALYZE")
        groups, plans = _plans(db, alert_groups, "FROM event")
        assert "SCAN event USING INDEX ix_event_alert" in plans[0], plans[0]
    else:  # the plan is SQLite's EXPLAIN QUERY PLAN
        groups = alert_groups(db)
    assert [(g.source, g.kind, g.count, g.severity, g.message) for g in groups] == [
        ("session-2", "feed", 4, "error", "down again")]
