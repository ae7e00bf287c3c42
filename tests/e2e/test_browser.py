"""The dashboard in a real browser, on a real engine the app started itself."""

import re

import psutil
import pytest
from sqlmodel import Session, func, select

from engine.control import actions as control
from engine.reads import queries
from engine.reads.fleet import lease_info
from engine.store.models import Fill, PaperSession
from tests.conftest import wait_until
from tests.e2e.conftest import choose, goto, no_exception, open_tab, pick_sessions
from ui import flow

pytestmark = pytest.mark.e2e
GREY = re.compile(r"#6b7280|rgb\(107, 114, 128\)")


def open_app(page, url: str, db, path: str = "") -> None:
    """Visit a page (the first visit autostarts the engine) and wait for the engine."""
    goto(page, url, path)
    wait_until(lambda: lease_info(db).online and not queries.agents(db).empty, 60,
               message="the autostarted engine and its agents")


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$")))
    return box.locator("[data-testid='stMetricValue']").first.inner_text()


def test_app_starts_its_engine_and_every_page_renders(app, page):
    url, env, db = app
    open_app(page, url, db)
    for path, title in (("", "Overview"), ("agents", "Agents"), ("sessions", "Sessions"),
                        ("logs", "Logs")):
        goto(page, url, path)
        page.get_by_role("heading", name=title, level=1).wait_for()
        no_exception(page)
    goto(page, url)
    page.get_by_text("online").first.wait_for()
    assert "autostart" in page.locator("[data-testid='stSidebar']").inner_text()


def test_form_session_trades_then_pause_holds_its_trade_count(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    control.wait_for(db, control.update_agent_config(db, "market_data",
                                                     {"interval_s": "0.25"}), 5)
    open_tab(page, "New session")
    page.locator(".st-key-new_name input").fill("browser session")
    page.locator(".st-key-new_name input").press("Enter")
    symbols = page.locator(".st-key-new_symbols input")
    symbols.click()
    symbols.fill("BTC-USD")
    symbols.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Create and start").click()

    def created():
        with Session(db) as s:
            return s.exec(select(PaperSession).where(
                PaperSession.name == "browser session")).first()

    session = wait_until(created, 30, message="the session the form created")
    open_tab(page, "Sessions")
    page.get_by_text("● running").first.wait_for(timeout=30_000)

    def fills() -> int:
        with Session(db) as s:
            return s.exec(select(func.count()).select_from(Fill).where(
                Fill.session_id == session.id)).one()

    wait_until(fills, 120, poll=1, message="fills of the browser-created session")
    wait_until(lambda: _metric(page, "Trades") != "0", 30, poll=0.5,
               message="the Trades figure to show the fills")
    page.locator(".st-key-sess_pause button").first.click()
    page.get_by_text("● paused").first.wait_for(timeout=30_000)
    held = fills()
    shown = _metric(page, "Trades")
    page.wait_for_timeout(5_000)
    assert fills() == held
    assert _metric(page, "Trades") == shown == str(held)
    no_exception(page)


def test_clicking_an_agent_node_and_stopping_it_turns_the_node_grey(app, page):
    url, env, db = app
    open_app(page, url, db, "agents")
    # Clicked once the page has finished its first run (the first agent's card shows): this test
    # is about clicks on a live page, not during its load.
    page.get_by_role("heading", name=re.compile("^Market data")).wait_for()
    diagram = page.frame_locator("iframe[title='streamlit_flow.streamlit_flow']")
    node = diagram.locator(".react-flow__node[data-id='sentiment']")
    node.click()
    page.get_by_role("heading", name=re.compile("^Sentiment")).wait_for()
    page.locator(".st-key-agent_stop button").first.click()
    dialog = page.get_by_role("dialog")  # Stop asks first
    dialog.get_by_text("Stop the Sentiment agent?").wait_for()
    dialog.locator(".st-key-confirm_ok button").click()
    wait_until(lambda: next(a for a in queries.agents(db).to_dict("records")
                            if a["id"] == "sentiment")["status"] == "stopped", 30, poll=0.5,
               message="the engine to stop the sentiment agent")
    wait_until(lambda: GREY.search(node.get_attribute("style") or ""), 30, poll=0.5,
               message="the sentiment node to turn grey")
    assert "stopped" in node.inner_text()
    no_exception(page)


def test_logs_page_filters_lines(app, page):
    url, env, db = app
    open_app(page, url, db, "logs")
    picker = page.locator(".st-key-log_id input")
    picker.click()
    picker.fill("engine")
    picker.press("Enter")
    code = page.locator(".st-key-log_view").first

    def started() -> bool:  # SQLite: the engine took the lease; PostgreSQL: it joined
        return bool(re.search("took the lease|joins the workers", code.inner_text()))

    wait_until(lambda: started() and "restored sessions" in code.inner_text(), 30, poll=0.5,
               message="the engine log")
    search = page.locator(".st-key-log_grep input")
    search.fill("restored")
    search.press("Enter")
    wait_until(lambda: not started(), 30, poll=0.5,
               message="the search to filter the engine log")
    lines = [line for line in code.inner_text().splitlines() if line.strip()]
    assert lines
    assert all("restored" in line for line in lines)
    no_exception(page)


def test_reloads_and_several_tabs_never_start_a_second_engine(app, new_tab, page):
    url, env, db = app
    open_app(page, url, db)
    holder = lease_info(db).holder
    for _ in range(2):
        goto(new_tab(), url, "sessions")
    for _ in range(3):
        page.reload()
        page.wait_for_selector("[data-testid='stMain'] h1")
    page.wait_for_timeout(3_000)
    assert lease_info(db).holder == holder
    home = env["PAPERDESK_HOME"]
    engines = [p for p in psutil.process_iter(["cmdline", "environ"])
               if p.info["cmdline"] and p.info["cmdline"][-2:] == ["engine", "run"]
               and (p.info["environ"] or {}).get("PAPERDESK_HOME") == home]
    assert len(engines) == 1


def test_dragged_node_positions_are_saved(app, page):
    url, env, db = app
    open_app(page, url, db, "agents")
    frame = page.frame_locator("iframe[title='streamlit_flow.streamlit_flow']")
    node = frame.locator(".react-flow__node[data-id='execution']")
    box = node.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 30, box["y"] + 160, steps=12)
    page.mouse.up()
    saved = wait_until(lambda: queries.node_positions(db).get("execution"), 30, poll=0.5,
                       message="the dragged position to be saved")
    assert saved[1] > flow.DEFAULT_POSITIONS["execution"][1]


def _session_named(db, name: str):
    with Session(db) as s:
        return s.exec(select(PaperSession).where(PaperSession.name == name)).first()


def _new_session_form(page, name: str, symbol: str) -> None:
    """Open the New session tab, type a name and choose one symbol."""
    open_tab(page, "New session")
    page.locator(".st-key-new_name input").fill(name)
    page.locator(".st-key-new_name input").press("Enter")
    symbols = page.locator(".st-key-new_symbols input")
    symbols.click()
    page.get_by_role("option", name=symbol, exact=True).click()
    page.keyboard.press("Escape")
    wait_until(lambda: page.locator(".st-key-new_from input").input_value(), 30, poll=0.25,
               message="From to be filled with the default window")


def test_form_refuses_a_window_without_data_naming_the_field(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    _new_session_form(page, "before the data", "BTC-USD")
    start = page.locator(".st-key-new_from input")
    start.fill("2010-01-01")
    start.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Create and start").click()
    error = page.locator(".st-key-new_from + div [data-testid='stAlertContentError']")
    error.wait_for()
    assert "From BTC-USD 1h data starts 2017-07-01" in error.inner_text()
    assert _session_named(db, "before the data") is None
    no_exception(page)


def test_form_session_at_max_speed_completes_with_a_full_progress_bar(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    _new_session_form(page, "fast forward", "BTC-USD")
    choose(page, "new_speed", "max (fast-forward)")
    page.get_by_role("button", name="Create and start").click()
    heading = page.locator("[data-testid='stMain'] h3").filter(has_text="fast forward")
    heading.wait_for()  # the form opened the new session's page
    wait_until(lambda: "completed" in heading.inner_text(), 60, poll=0.5,
               message="the session to show completed")
    session = _session_named(db, "fast forward")
    progress = page.locator("[data-testid='stProgress']").first
    full = f"Bar {session.bars_total:,} of {session.bars_total:,} (100.0%)"
    wait_until(lambda: full in progress.inner_text(), 30, poll=0.5,
               message="a full progress bar")
    assert session.speed is None
    no_exception(page)


def test_compare_sessions_of_different_assets_by_bars_since_start(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    made = [control.create_session(db, {"name": f"cmp {symbol}", "symbols": symbol,
                                        "timeframe": timeframe, "strategy": "ma_crossover",
                                        "speed": "max"}, start=True)
            for symbol, timeframe in (("BTC-USD", "1h"), ("ETH-USD", "1d"), ("AAPL", "1d"))]
    ids = [m.id for m in made]
    for m in made:
        control.wait_for(db, m, 30)
        assert control.wait_for_session(db, m.id, 120).status == "completed"
    page.reload()
    page.wait_for_selector("[data-testid='stMain'] h1")
    open_tab(page, "Compare")
    pick_sessions(page, "compare_ids", ids, "cmp")
    curves = page.locator(".stPlotlyChart g.trace.scatter")
    wait_until(lambda: curves.count() == 3, 30, poll=0.5, message="three curves")
    assert page.locator(".stPlotlyChart .xtitle").first.text_content() == "bars since start"
    assert page.locator(".stPlotlyChart .ytitle").first.text_content() == "% from start"
    no_exception(page)
