"""Issue 9 in a real browser: create a 2-parameter sweep on the Sessions page, watch its
progress, open the heatmap and start the winner as a paper session (the autostarted engine
runs the sweep)."""

import pytest
from sqlmodel import Session, func, select

from engine.control import sweeps
from engine.store.models import Fill, PaperSession, Sweep
from tests.conftest import wait_until
from tests.e2e.conftest import no_exception, open_tab, type_into
from tests.e2e.test_browser import open_app

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]


def test_sweep_progress_heatmap_and_winner_as_paper_session(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")
    open_tab(page, "Sweeps")
    page.get_by_text("New sweep").click()
    type_into(page, "sweep_name", "browser sweep")
    type_into(page, "sweep_param_ma_crossover_fast", "5:20:5")
    type_into(page, "sweep_param_ma_crossover_slow", "30,50,100")
    type_into(page, "sweep_from", "2019-01-01")
    type_into(page, "sweep_to", "2019-06-01")
    type_into(page, "sweep_split", "2019-04-01")
    page.locator(".st-key-sweep_create button").click()
    with Session(db) as s:
        sweep = wait_until(lambda: s.exec(select(Sweep).where(
            Sweep.name == "browser sweep")).first(), 30, message="the sweep row")
    assert sweep.total == 12
    progress = page.locator("[data-testid='stProgress']").first
    progress.wait_for()
    assert "of 12 variants" in progress.inner_text()
    wait_until(lambda: "completed: 12 of 12 variants" in progress.inner_text(), 180,
               poll=0.5, message="the progress bar to reach 12 of 12")
    cells = page.locator(".st-key-sweep_table td")
    wait_until(lambda: cells.count() > 0, 30, message="the ranked table")
    page.get_by_text("Heatmap").click()
    page.locator(".st-key-sweep_heatmap canvas, .st-key-sweep_heatmap svg").first.wait_for()
    page.locator(".st-key-sweep_graduate button").click()
    with Session(db) as s:
        winner = s.exec(select(PaperSession).where(PaperSession.sweep_id == sweep.id)).all()
        paper = wait_until(lambda: s.exec(select(PaperSession).where(
            PaperSession.origin_session_id.is_not(None))).first(), 30,
            message="the paper session")
    # rank, then the session: a link to its page, ending in its id
    ranked_first = int(cells.nth(1).inner_text().rsplit("=", 1)[-1])
    assert paper.origin_session_id == ranked_first
    assert paper.origin_session_id in {v.id for v in winner}
    page.get_by_text("Paper sessions from this sweep").wait_for()
    no_exception(page)


def test_a_walk_forward_rule_starts_as_a_paper_session_that_trades(app, page):
    url, env, db = app
    open_app(page, url, db, "sessions")  # the first page view starts the app's engine
    sid = sweeps.create_sweep(db, {"name": "browser walk", "strategy": "ma_crossover",
                                   "symbols": "BTC-USD", "from": "2019-01-01",
                                   "to": "2019-02-01", "grid": {"fast": "5,10", "slow": "30"},
                                   "walk_forward": "train=300,test=200"}).id
    with Session(db) as s:
        wait_until(lambda: s.get(Sweep, sid, populate_existing=True).status == "completed",
                   180, poll=0.5, message="the app's engine to run the walk-forward sweep")
    page.reload()
    open_tab(page, "Sweeps")
    page.locator(".st-key-sweep_pick").click()
    page.get_by_role("option", name="browser walk", exact=False).first.click()
    page.get_by_text("Trade this rule on paper").wait_for()
    type_into(page, "walk_rule_speed", "max")
    page.locator(".st-key-walk_rule_start button").click()
    with Session(db) as s:
        paper = wait_until(lambda: s.exec(select(PaperSession).where(
            PaperSession.walk_rule.is_not(None))).first(), 30, message="the rule's session")
        wait_until(lambda: s.get(PaperSession, paper.id, populate_existing=True)
                   .status == "completed", 120, message="the rule's session to trade")
        fills = s.exec(select(func.count()).where(Fill.session_id == paper.id)).one()
    assert fills > 0
    assert paper.name == "walk-forward: browser walk"
    no_exception(page)
