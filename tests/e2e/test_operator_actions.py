"""Operator actions on a session in a real browser, on the engine the app started: Close
position (asks, then the engine sells at the next bar as a manual order naming who asked) and
Edit parameters (a form that refuses a bad value by its field and saves a good one into the
settings history)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from engine.control import actions as control
from engine.market import catalog
from engine.store.models import Fill, Order, PaperSession, Position
from tests.conftest import replay_session, store_bars, wait_until
from tests.e2e.conftest import no_exception, open_tab
from tests.e2e.test_browser import open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
FRAME = catalog.load("BTC-USD", "1h")
SPEC = {"symbols": "BTC-USD", "timeframe": "1h", "strategy": "ma_crossover",
        "from": FRAME["ts"].iloc[-900].isoformat(), "fill_model": "custom"}


def _holding_bar(db):
    """A bar after which the MA crossover holds BTC for many bars (from a finished run)."""
    done = replay_session(db, {"name": "reference", **SPEC}, status="completed")
    with Session(db) as s:
        fills = s.exec(select(Fill).where(Fill.session_id == done).order_by(Fill.id)).all()
    spans = [(b.bar_ts, s.bar_ts) for b, s in zip(fills, fills[1:], strict=False)
             if b.side == "buy" and s.side == "sell"]
    bought, _ = max(spans, key=lambda span: span[1] - span[0])
    return bought + timedelta(hours=2)


def _session(db, sid: int) -> PaperSession:
    with Session(db) as s:
        return s.get(PaperSession, sid)


def test_close_position_asks_then_sells_everything_as_a_manual_order(app, page):
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    until = _holding_bar(db)
    sid = control.create_session(db, {"name": "to close", **SPEC, "speed": "max",
                                      "until": until, "then": "0.2"}, start=True).id
    open_app(page, url, db, f"sessions?session={sid}")
    wait_until(lambda: _session(db, sid).speed == 0.2, 60, message="the fast-forward to end")
    with Session(db) as s:
        held = s.get(Position, (sid, "BTC-USD")).qty
    assert held > 0
    button = page.locator(".st-key-sess_close_position button").first
    wait_until(button.is_enabled, 30, message="Close position to be enabled")
    button.click()
    dialog = page.locator("[role='dialog']")
    dialog.get_by_text("sells its whole position").wait_for()
    said = dialog.inner_text().replace("\u2060", "")  # literal() keeps user text inert
    assert f"{held:g} BTC-USD" in said
    assert "manual order by local user" in said
    dialog.locator(".st-key-confirm_ok button").click()

    def manual() -> Order | None:
        with Session(db) as s:
            return s.exec(select(Order).where(Order.session_id == sid,
                                              Order.origin == "manual")).first()

    order = wait_until(lambda: (o := manual()) and o.status == "filled" and o, 30,
                       message="the manual close to fill")
    assert (order.side, order.qty, order.requested_by) == ("sell", held, "local user")
    with Session(db) as s:
        assert s.get(Position, (sid, "BTC-USD")).qty == 0
    open_tab(page, "Positions")
    page.get_by_text("No open positions.").wait_for()
    open_tab(page, "Trades")
    rows = page.locator("[data-testid='stDataFrameResizable'] tbody tr").filter(
        has_text="manual close")
    wait_until(lambda: rows.count() == 1, 30, message="the manual fill in the trades list")
    assert "local user" in rows.first.locator("td").all_inner_texts()
    open_tab(page, "Orders")
    rows = page.locator(".st-key-orders_table [data-testid='stDataFrameResizable'] tbody tr")
    wait_until(lambda: rows.count() > 0, 30, message="the orders list")
    shown = [cells for cells in (r.locator("td").all_inner_texts() for r in rows.all())
             if "manual" in cells]
    assert len(shown) == 1
    assert "local user" in shown[0]
    open_tab(page, "Reconcile")
    page.get_by_role("button", name="Reconcile", exact=True).first.click()
    page.get_by_text("Every fill matches the fast-forward.").wait_for(timeout=60_000)
    page.get_by_text("Manual orders (Close position)").wait_for()
    no_exception(page)


def test_edit_parameters_refuses_a_bad_value_then_saves_a_good_one_into_the_history(app, page):
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    sid = control.create_session(db, {"name": "to edit", **SPEC, "speed": "1"}, start=True).id
    open_app(page, url, db, f"sessions?session={sid}")
    open_tab(page, "Parameters")
    fast = page.locator(f".st-key-edit_param_{sid}_0_fast input")
    wait_until(lambda: fast.input_value() == "10", 30, message="the current fast period")
    save = page.locator(".st-key-edit_params_save button").first
    fast.fill("ten")
    fast.press("Tab")
    save.click()
    page.get_by_text("Not saved: 1 field to fix").wait_for()
    error = page.locator(f".st-key-edit_param_{sid}_0_fast + div "
                         "[data-testid='stAlertContentError']")
    assert "must be a whole number (got 'ten')" in error.inner_text()
    assert _session(db, sid).config_history == []
    fast.fill("4")
    fast.press("Tab")
    save.click()
    wait_until(lambda: _session(db, sid).config_history, 30, message="the change to apply")
    (change,) = _session(db, sid).config_history
    assert (change["after"]["params"]["fast"], change["by"]) == (4, "local user")
    cells = page.locator(".st-key-settings_history [data-testid='stDataFrameResizable'] td")
    wait_until(lambda: "fast 10 → 4" in cells.all_inner_texts(), 30,
               message="the change in the settings history")
    assert "local user" in cells.all_inner_texts()
    assert page.locator(f".st-key-edit_param_{sid}_1_fast input").input_value() == "4"
    no_exception(page)
