"""Long tables a page at a time (ui.paging): every row stays reachable, newest first, and a
table of one page draws no pager."""

import streamlit as st
from sqlmodel import Session, select

from engine.control import actions as control
from engine.store.models import Fill
from tests.conftest import replay_session, store_bars
from tests.views.conftest import run_page
from ui.paging import PAGE_ROWS


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_sessions_fills_are_paged_newest_first_and_every_one_is_reachable(db):
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-04-01"})
    with Session(db) as s:
        orders = list(s.exec(select(Fill.order_id).where(Fill.session_id == sid)
                             .order_by(Fill.id.desc())))
    assert len(orders) > PAGE_ROWS
    at = run_page("sessions", session_selected=sid, detail_tab="Trades")
    assert not at.exception
    pages = int(at.number_input(key="trades_page").max)
    assert pages == -(-len(orders) // PAGE_ROWS)
    shown = []
    for page in range(1, pages + 1):
        at.number_input(key="trades_page").set_value(page).run()
        assert not at.exception
        shown += [int(o) for o in _table(at, "why")["order"]]
        first = (page - 1) * PAGE_ROWS + 1
        last = min(first + PAGE_ROWS - 1, len(orders))
        assert any(c.value.startswith(f"Fills {first:,}–{last:,} of {len(orders):,}")
                   for c in at.caption)
    assert shown == orders


def test_the_desk_pages_its_sessions_and_a_short_list_draws_no_pager(filled, db):
    at = run_page("overview")
    assert not at.exception
    assert not [n for n in at.number_input if n.key == "desk_page"]
    listed = len(_table(at, "P&L"))
    for k in range(PAGE_ROWS + 1 - listed):
        control.create_session(db, {"name": f"more {k}", "strategy": "ma_crossover",
                                    "symbols": "BTC-USD"})
    st.cache_data.clear()  # the reads are shared for READ_TTL_S: read the new sessions now
    at = run_page("overview")
    assert len(_table(at, "P&L")) == PAGE_ROWS
    newest = _table(at, "P&L")["name"].iloc[0]
    assert newest == f"more {PAGE_ROWS - listed}"
    at.number_input(key="desk_page").set_value(2).run()
    assert not at.exception
    assert len(_table(at, "P&L")) == 1  # the oldest
    assert any(c.value.startswith(f"Sessions {PAGE_ROWS + 1}–{PAGE_ROWS + 1} of "
                                  f"{PAGE_ROWS + 1}") for c in at.caption)
