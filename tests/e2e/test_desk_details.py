"""Issue 10 in a real browser: the form's field errors, the log tail, the equity chart."""

import time

import pytest
from sqlmodel import Session, func, select

from engine.config import load_settings
from engine.control import actions as control
from engine.logs import get_logger
from engine.store.models import PaperSession
from tests.conftest import wait_until
from tests.e2e.conftest import no_exception, open_tab, refreshes
from tests.e2e.test_browser import open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
ERROR = "[data-testid='stAlertContentError']"


def _sessions(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(PaperSession)).one()


def test_form_shows_three_field_errors_at_once(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    before = _sessions(db)
    open_tab(page, "New session")
    page.locator(".st-key-new_strategy").click()
    page.get_by_role("option", name="Moving-average crossover").click()
    page.get_by_text("Strategy parameters").click()
    fast = page.locator(".st-key-new_param_ma_crossover_fast input")
    fast.fill("fast")
    fast.press("Enter")
    page.get_by_role("button", name="Create", exact=True).click()  # no name, no symbols
    errors = page.locator(ERROR)
    wait_until(lambda: errors.count() == 3, 30, poll=0.25, message="three field errors")
    for key, text in (("new_name", "Name must be 1 to 100 characters"),
                      ("new_symbols", "Symbols must name at least one symbol"),
                      ("new_param_ma_crossover_fast", "fast must be a whole number")):
        under = page.locator(f".st-key-{key} + div {ERROR}")  # under its field
        assert text in under.inner_text()
    assert _sessions(db) == before
    no_exception(page)


def _in_view(box, line) -> bool:
    """Whether `line` lies inside the visible part of the scroll box `box`."""
    outer, inner = box.bounding_box(), line.bounding_box()
    return bool(outer and inner and inner["y"] >= outer["y"] - 1
                and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1)


def test_log_tail_shows_a_line_written_after_the_page_opened(app, page):
    url, env, db = app
    open_app(page, url, db, "logs")
    box = page.locator(".st-key-log_view .log-box")
    box.wait_for()
    wait_until(lambda: "id=engine" in page.url, 10, poll=0.25, message="the URL to name it")
    wait_until(lambda: box.locator(".log-line").count() > 1, 30, poll=0.5,
               message="the engine log's lines")
    marker = f"late line {time.time_ns()} " + "long " * 60  # longer than the box is wide
    log = get_logger(load_settings(env).logs_dir, "engine")
    for i in range(60):  # more than the box holds, so it must scroll to show the newest
        log.info("filler line %d", i)
    log.warning(marker)
    line = box.locator(".log-line", has_text=marker.split()[2])
    wait_until(lambda: line.count() == 1, 15, poll=0.25, message="the new line in the tail")
    assert box.evaluate("e => e.scrollHeight > e.clientHeight")
    assert _in_view(box, line)  # the newest line is in view without scrolling
    assert line.get_attribute("data-level") == "WARNING"
    assert line.evaluate("e => getComputedStyle(e).color") == "rgb(202, 138, 4)"
    assert line.bounding_box()["height"] > 30  # wrapped onto several rows
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth")  # nothing cut off at the side
    no_exception(page)


EQUITY_LINE = ".st-key-equity_chart .mark-line path[aria-roledescription='line mark']"
# Records whether the equity chart ever lost its line (a MutationObserver sees every frame).
WATCH_EQUITY = """(selector) => {
  window.equityBlanked = 0;
  const lines = () => document.querySelectorAll(selector).length;
  new MutationObserver(() => { if (lines() === 0) window.equityBlanked += 1; })
      .observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_equity_chart_does_not_blank_across_refreshes(app, page):
    url, env, db = app
    made = control.create_session(db, {"name": "steady chart", "symbols": "BTC-USD",
                                       "timeframe": "1h", "strategy": "ma_crossover",
                                       "speed": "2"}, start=True)
    open_app(page, url, db, f"sessions?session={made.id}")
    line = page.locator(EQUITY_LINE).first
    line.wait_for(timeout=60_000)
    page.evaluate(WATCH_EQUITY, EQUITY_LINE)
    first = line.get_attribute("d")
    for _ in refreshes(page):  # three refreshes, each showing a new bar
        assert line.get_attribute("d")
    assert page.evaluate("window.equityBlanked") == 0
    wait_until(lambda: line.get_attribute("d") != first, 30, poll=0.5,
               message="the curve to grow with the new bars")  # updated, not frozen
    no_exception(page)
