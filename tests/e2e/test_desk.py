"""The desk across sessions in a real browser (issue 19): a paused session's symbol with its
exposure on the Overview's Exposure tab, and its P&L per day as bars on the Daily P&L tab."""

import pytest
from sqlalchemy import update

from engine.reads import desk
from engine.store.db import session_scope
from engine.store.models import PaperSession
from tests.conftest import replay_session, store_bars, wait_until
from tests.e2e.conftest import goto, no_exception, open_tab
from ui.desk import EXPOSURE

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
HOLDS_BTC = {"name": "desk btc", "symbols": "BTC-USD", "timeframe": "1h", "from": "2019-01-01",
             "to": "2019-03-03", "params": {"fast": 5, "slow": 20}}


@pytest.fixture(scope="module")
def holding(app) -> int:
    """A paused session that holds BTC at its clock (traded before the engine starts)."""
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, HOLDS_BTC, status="completed")
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="paused"))
    return sid


def test_desk_shows_a_sessions_symbol_exposure_and_its_daily_pnl_bars(app, page, holding):
    url, env, db = app
    held = desk.exposure(db).symbols.set_index("symbol").loc["BTC-USD"]
    goto(page, url)
    open_tab(page, "Exposure")
    grid = page.locator(".st-key-desk_exposure [data-testid='stDataFrameResizable']")
    cells = grid.locator("td")
    wait_until(lambda: cells.count() >= 6, 30, message="the exposure table's cells")
    # The grid's accessible table holds the values (the canvas draws them formatted).
    assert grid.locator("th").all_inner_texts()[:6] == list(EXPOSURE.values())
    symbol, qty, value, share, unrealized, sessions = cells.all_inner_texts()[:6]
    assert symbol == "BTC-USD"
    assert float(qty) == pytest.approx(held["qty"])
    assert float(value) == pytest.approx(held["market_value"])
    assert float(share) == pytest.approx(held["equity_pct"])
    assert float(unrealized) == pytest.approx(held["unrealized_pnl"])
    assert sessions == "1"

    open_tab(page, "Daily P&L")
    days = desk.daily_pnl(db)
    chart = page.locator(f".st-key-daily_pnl_{holding}")
    bars = chart.locator("svg.marks g.mark-rect path")
    wait_until(lambda: bars.count() == len(days), 30, message="a bar per day")
    assert "desk btc" in chart.inner_text()
    labels = " ".join(bars.evaluate_all("paths => paths.map(p => p.getAttribute('aria-label'))"))
    last = days["pnl"].iloc[-1]
    day = days["day"].iloc[-1]
    assert f"day (UTC): {day:%Y-%m-%d}; the day's P&L (USD): {last:+,.2f}" in labels, labels
    no_exception(page)
