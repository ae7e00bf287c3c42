"""Your own market data in a real browser (issue 17 part 2): the operator uploads a CSV on the
Data tab, creates a session on the new symbol with the form and sees its fills; a bad file is
refused with one line and stores nothing. (A viewer's missing upload control is checked in
tests/views/test_viewer.py: a signed-in non-operator needs an OIDC provider a browser test
does not have.)"""

import pytest
from sqlmodel import Session, func, select

from engine.market import catalog
from engine.store.datasets import ImportedDataset
from engine.store.models import Bar, Fill, PaperSession
from tests.conftest import wait_until
from tests.e2e.conftest import choose, open_tab
from tests.e2e.test_browser import _metric, _new_session_form, open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]


def _upload(page, path, symbol: str) -> None:
    open_tab(page, "Data")
    page.locator(".st-key-data_file input[type='file']").set_input_files(str(path))
    page.locator(".st-key-data_file").get_by_text(path.name).wait_for()
    page.locator(".st-key-data_symbol input").fill(symbol)
    page.get_by_role("button", name="Import", exact=True).click()


def _count(db, model, *where) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_operator_uploads_a_csv_and_trades_a_session_on_it(app, page, tmp_path):
    url, env, db = app
    open_app(page, url, db, "sessions")
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,open,high,low,close,volume\n2024-01-01 00:00,10,9,11,10,1\n"
                   "2024-01-01 01:00,10,11,9,10,1\n")
    _upload(page, bad, "BADONE")
    error = page.locator("[data-testid='stAlertContentError']").first
    error.wait_for()
    assert error.inner_text().strip() == "line 2: high below low; nothing imported"
    assert _count(db, Bar, Bar.symbol == "BADONE") == 0

    good = tmp_path / "mybtc.csv"
    catalog.load("BTC-USD", "1h").tail(1500).to_csv(good, index=False)
    _upload(page, good, "MYBTC")
    page.get_by_text("imported MYBTC 1h (crypto)").wait_for(timeout=60_000)
    assert _count(db, ImportedDataset) == 1
    assert page.locator("[data-testid='stFileUploader']").count() == 1

    _new_session_form(page, "own data", "MYBTC")
    choose(page, "new_speed", "max (fast-forward)")
    page.get_by_role("button", name="Create and start").click()
    heading = page.locator("[data-testid='stMain'] h3").filter(has_text="own data")
    heading.wait_for()
    wait_until(lambda: "completed" in heading.inner_text(), 90, poll=0.5,
               message="the session on the uploaded data to complete")
    with Session(db) as s:
        session = s.exec(select(PaperSession).where(PaperSession.name == "own data")).one()
    fills = _count(db, Fill, Fill.session_id == session.id)
    assert fills > 0
    wait_until(lambda: _metric(page, "Trades") != "0", 30,
               poll=0.5, message="the Trades figure to show the session's trades")
    assert page.locator("[data-testid='stException']").count() == 0
