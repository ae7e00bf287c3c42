"""Issue 19 in a real browser: forms that never substitute, text that is only text, sweeps
apart from sessions, true dialogs, the first view while the engine starts."""

import re

import pytest
from sqlmodel import Session, func, select

from engine.reads.fleet import lease_info
from engine.store.models import PaperSession
from tests.conftest import wait_until
from tests.e2e.conftest import goto, no_exception

pytestmark = pytest.mark.e2e


def open_app(page, url: str, db, path: str = "") -> None:
    goto(page, url, path)
    wait_until(lambda: lease_info(db).online, 60, message="the autostarted engine")


def _sessions(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(PaperSession)).one()


def _type(page, key: str, value: str) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(value)
    box.press("Tab")


def test_a_rejected_field_creates_nothing_and_says_which(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    page.get_by_role("tab", name="New session").click()
    _type(page, "new_name", "out of bounds")
    symbols = page.locator(".st-key-new_symbols input")
    symbols.click()
    page.get_by_role("option", name="BTC-USD", exact=True).click()
    page.keyboard.press("Escape")
    before = _sessions(db)
    _type(page, "new_size", "5")
    _type(page, "new_cash", "100000000000")
    _type(page, "new_sl", "-3")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_text(re.compile("Not created. 3 fields to fix")).wait_for()
    for key, bound in (("new_size", "at most 1 "), ("new_cash", "at most 1,000,000,000"),
                       ("new_sl", "at least 0")):
        error = page.locator(f".st-key-{key} + div [data-testid='stAlertContentError']")
        assert bound in error.inner_text(), key
    assert _sessions(db) == before
    no_exception(page)
