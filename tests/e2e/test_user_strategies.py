"""Issue 17 in a real browser: a strategy file the operator put in PAPERDESK_HOME/strategies is
offered by the New-session form with its own parameters, trades in the app's engine, and the
strategy agent's card lists it with its file and source hash."""

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from engine.store.models import Fill
from tests.conftest import ROOT, wait_until
from tests.e2e.conftest import choose, goto, no_exception
from tests.e2e.test_browser import _new_session_form, _session_named, open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]


def _readme_strategy() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("# var/strategies/breakout.py\n", 1)[1].split("```", 1)[0]


def test_a_users_strategy_is_offered_trades_and_is_listed(app, page):
    url, env, db = app
    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "breakout.py").write_text(_readme_strategy())
    open_app(page, url, db, "sessions")
    _new_session_form(page, "my breakout", "BTC-USD")
    choose(page, "new_strategy", "Channel breakout")
    page.get_by_text("Strategy parameters").click()
    window = page.get_by_role("textbox", name="window")
    window.fill("25")
    window.press("Enter")
    choose(page, "new_speed", "max (fast-forward)")
    page.get_by_role("button", name="Create and start").click()
    session = wait_until(lambda: _session_named(db, "my breakout"), 30,
                         message="the session row")
    assert (session.strategy, session.params) == ("breakout", {"window": 25})
    assert session.strategy_source == hashlib.sha256(
        (folder / "breakout.py").read_bytes()).hexdigest()
    wait_until(lambda: _session_named(db, "my breakout").status == "completed", 120,
               message="the session to trade its window in the app's engine")
    with Session(db) as s:
        fills = s.exec(select(func.count()).where(Fill.session_id == session.id)).one()
    assert fills > 0
    no_exception(page)

    page.set_viewport_size({"width": 390, "height": 844})  # the node list a phone picks from
    goto(page, url, "agents")
    page.locator(".st-key-flow_pick button", has_text="Strategy").first.click()
    table = page.locator("[data-testid='stDataFrame']").filter(has_text="breakout.py")
    wait_until(lambda: table.count() > 0 or page.get_by_text("breakout.py").count() > 0, 30,
               message="the strategy list with the user's file")
    no_exception(page)

    page.set_viewport_size({"width": 1440, "height": 1000})  # a deep link opens the card
    goto(page, url, "agents?agent=strategy")
    page.get_by_text("Your own: Python files in").first.wait_for()
    wait_until(lambda: page.get_by_text("breakout.py").count() > 0
               or page.locator("[data-testid='stDataFrame']").filter(
                   has_text="breakout.py").count() > 0, 30,
               message="the strategy card from ?agent=strategy")
    no_exception(page)
