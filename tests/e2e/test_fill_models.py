"""Issue 12 in a real browser: a session created with the pessimistic preset fills a large
order in parts, and the Fill models tab re-runs its window under each preset."""

import pytest
from sqlmodel import Session, func, select

from engine.store.models import Fill, Order
from tests.conftest import wait_until
from tests.e2e.conftest import choose, no_exception, open_tab
from tests.e2e.test_browser import _new_session_form, _session_named, open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]


def test_pessimistic_session_shows_partial_fills_and_the_preset_comparison(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    _new_session_form(page, "pessimistic fills", "BTC-USD")
    choose(page, "new_speed", "max (fast-forward)")
    cash = page.locator(".st-key-new_cash input")
    cash.fill("50000000")  # a tenth of it is far more than 2 % of an hour's BTC volume
    cash.press("Enter")
    choose(page, "new_fill_model", "Pessimistic")
    page.get_by_text("Pessimistic: fee 60 bps").wait_for()  # the form says what it means
    page.get_by_role("button", name="Create and start").click()
    heading = page.locator("[data-testid='stMain'] h3").filter(has_text="pessimistic fills")
    heading.wait_for()
    wait_until(lambda: "completed" in heading.inner_text(), 90, poll=0.5,
               message="the session to complete")
    session = _session_named(db, "pessimistic fills")
    assert session.fill_model == "pessimistic"
    assert session.volume_cap_pct == 2.0
    assert session.latency_bars == 1
    page.get_by_text("Fill model pessimistic: fee 60 bps").wait_for()  # on the session page
    with Session(db) as s:
        split = s.exec(select(Fill.order_id, func.count()).where(Fill.session_id == session.id)
                       .group_by(Fill.order_id).having(func.count() > 1)).all()
        orders = s.exec(select(func.count()).select_from(Order)
                        .where(Order.session_id == session.id)).one()
    assert split, "a capped order should fill over several bars"

    open_tab(page, "Orders")
    grid = page.locator(".st-key-orders_table [data-testid='stDataFrameResizable']")
    headers = grid.locator("th")
    wait_until(lambda: "fills" in headers.all_inner_texts(), 30, poll=0.5,
               message="the orders table's columns")
    shown = [h.strip() for h in headers.all_inner_texts()]
    assert {"filled", "remaining", "fills"} <= set(shown)
    order_id, parts = split[0]
    cells = {tuple(row.locator("td").all_inner_texts())[0]: row.locator("td").all_inner_texts()
             for row in grid.locator("tbody tr").all()}
    assert cells[str(order_id)][shown.index("fills")].strip() == str(parts)

    open_tab(page, "Fill models")
    page.get_by_role("button", name="Re-run with each fill model").click()
    cells = page.locator(".st-key-fill_models_table td")
    wait_until(lambda: "pessimistic (this session)" in cells.all_inner_texts(), 60, poll=0.5,
               message="the preset comparison table")
    assert {"frictionless", "realistic"} <= set(cells.all_inner_texts())
    page.locator(".st-key-fill_models_chart").wait_for()
    assert orders >= 1
    no_exception(page)
