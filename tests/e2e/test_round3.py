"""Issue 19 in a real browser: forms that never substitute, text that is only text, sweeps
apart from sessions, true dialogs, the first view while the engine starts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from engine.control import sweeps
from engine.reads.fleet import lease_info
from engine.store.models import Fill, PaperSession, Sweep
from tests.conftest import replay_session, store_bars, wait_until
from tests.e2e.conftest import goto, name_a_btc_session, no_exception, open_tab, type_into

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]


def open_app(page, url: str, db, path: str = "") -> None:
    goto(page, url, path)
    wait_until(lambda: lease_info(db).online, 60, message="the autostarted engine")


def _sessions(db) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(PaperSession)).one()


def test_first_view_while_the_engine_starts_says_starting(app, page):
    """This module's first request: the dashboard autostarts its engine now."""
    url, env, db = app
    goto(page, url)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Starting engine…").wait_for(timeout=10_000)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Starting engine…").wait_for(timeout=10_000)
    assert not lease_info(db).online
    shown = page.locator("body").inner_text()
    for misleading in ("offline", "System health", "stopped"):
        assert misleading not in shown
    wait_until(lambda: lease_info(db).online, 60, message="the autostarted engine")
    sidebar.get_by_text("online").first.wait_for(timeout=30_000)
    main.get_by_text("System health").wait_for(timeout=30_000)
    no_exception(page)


def test_a_rejected_field_creates_nothing_and_says_which(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    open_tab(page, "New session")
    name_a_btc_session(page, "out of bounds")
    before = _sessions(db)
    type_into(page, "new_size", "5", "Tab")
    type_into(page, "new_cash", "100000000000", "Tab")
    type_into(page, "new_sl", "-3", "Tab")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_text(re.compile("Not created. 3 fields to fix")).wait_for()
    for key, bound in (("new_size", "at most 1 "), ("new_cash", "at most 1,000,000,000"),
                       ("new_sl", "at least 0")):
        error = page.locator(f".st-key-{key} + div [data-testid='stAlertContentError']")
        assert bound in error.inner_text(), key
    assert _sessions(db) == before
    no_exception(page)


EVIL = "**md** :red[red] $x^2$ [link](http://example.com)"
RENDERED = """() => ({
    links: [...document.querySelectorAll('a')].filter(a => a.href.includes('example.com'))
        .map(a => a.parentElement.outerHTML.slice(0, 300)),
    formulas: document.querySelectorAll('.katex, math').length,
    styled: [...document.querySelectorAll('strong, b, em, span')].filter(
        e => e.textContent === 'md' || e.textContent === 'red').length,
    shown: document.body.innerText.replaceAll('\u2060', '')
        .includes(':red[red] $x^2$ [link](http://example.com)'),
})"""
DETAIL_TABS = ("Performance", "Chart", "Positions", "Trades", "Orders", "Reconcile",
               "Fill models", "Robustness", "Parameters")


def _only_text(page, where: str) -> None:
    seen = page.evaluate(RENDERED)
    assert (seen["links"], seen["formulas"], seen["styled"]) == ([], 0, 0), (where, seen)
    no_exception(page)


def test_user_text_is_only_text_on_every_page(app, page):
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"name": EVIL, "symbols": "BTC-USD", "timeframe": "1h",
                              "from": "2019-01-01", "to": "2019-02-01"}, status="completed")
    sweeps.create_sweep(db, {"name": EVIL, "strategy": "ma_crossover", "symbols": "BTC-USD",
                             "from": "2019-01-01", "to": "2019-02-01",
                             "grid": {"fast": "3,5", "slow": "30"}})
    open_app(page, url, db)
    for path in ("", "agents", "logs"):
        goto(page, url, path)
        page.wait_for_timeout(0)
        _only_text(page, path or "overview")
    goto(page, url, f"sessions?session={sid}")
    page.get_by_role("heading").filter(has_text="md").first.wait_for()
    assert page.evaluate(RENDERED)["shown"], page.locator("body").inner_text()[:1500]
    for tab in (*DETAIL_TABS, "Compare", "Sweeps"):
        open_tab(page, tab)
        _only_text(page, tab)
    picker = page.locator(".st-key-sweep_pick input")
    picker.click()
    _only_text(page, "sweep picker")


def _paper_fills_last_hour(db) -> int:
    since = datetime.now(UTC) - timedelta(hours=1)
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(Fill).join(
            PaperSession, PaperSession.id == Fill.session_id).where(
            Fill.ts >= since, PaperSession.sweep_id.is_(None))).one()


def test_sweeps_stay_apart_from_sessions_and_a_new_one_shows_at_once(app, page):
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    replay_session(db, {"name": "paper", "symbols": "BTC-USD", "timeframe": "1h",
                        "from": "2019-01-01", "to": "2019-02-01"}, status="completed")
    open_app(page, url, db, "sessions")
    open_tab(page, "Sweeps")
    page.get_by_text("New sweep").click()
    for key, text in (("sweep_name", "apart"), ("sweep_param_ma_crossover_fast", "3,5"),
                      ("sweep_param_ma_crossover_slow", "30"), ("sweep_from", "2019-01-01"),
                      ("sweep_to", "2019-03-01")):
        type_into(page, key, text, "Tab")
    page.locator(".st-key-sweep_create button").click()
    page.get_by_text(re.compile(r"Sweep #\d+ created")).wait_for()
    picked = page.locator(".st-key-sweep_pick")
    assert "apart" in picked.inner_text() + picked.locator("input").input_value()
    with Session(db) as s:
        sweep = s.exec(select(Sweep).where(Sweep.name == "apart")).one()
    wait_until(lambda: _sweep_status(db, sweep.id) == "completed", 120, poll=0.5,
               message="the engine to run the sweep")
    with Session(db) as s:
        variants = s.exec(select(PaperSession.id).where(
            PaperSession.sweep_id == sweep.id)).all()
        paper = s.exec(select(PaperSession.id).where(PaperSession.sweep_id.is_(None))).all()
    assert variants
    open_tab(page, "Sessions")
    page.locator(".st-key-session_pick input").click()
    offered = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert len(offered) == len(paper)
    assert not any(o.startswith(f"#{v} ") for o in offered for v in variants)
    goto(page, url, "logs")
    page.locator(".st-key-log_id input").click()
    logs = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert "session-" + str(paper[0]) in logs
    assert not any(f"session-{v}" in logs for v in variants)
    goto(page, url)
    trades = _metric(page, "Trades (last hour)")
    assert int(trades.replace(",", "")) == _paper_fills_last_hour(db)
    no_exception(page)


def _sweep_status(db, sweep_id: int) -> str:
    with Session(db) as s:
        return s.get(Sweep, sweep_id).status


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']",
                         has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator("[data-testid='stMetricValue']").first.inner_text()


def test_a_stop_dialog_says_start_undoes_it_on_a_red_button(app, page):
    url, env, db = app
    open_app(page, url, db)
    page.locator("[data-testid='stSidebar'] .st-key-side_stop button").first.click()
    dialog = page.locator("[role='dialog']")
    dialog.get_by_text("Start undoes this").wait_for()
    assert "cannot be undone" not in dialog.inner_text()
    colour = dialog.locator(".st-key-confirm_ok button").evaluate(
        "b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(220, 38, 38)"
    dialog.get_by_role("button", name="Cancel").click()
    no_exception(page)
