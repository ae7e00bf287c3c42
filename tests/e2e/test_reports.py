"""The HTML reports open in Chromium with the network off (an offline context, every request
but the file itself aborted) and show every section, their charts drawn by the inline
plotly.js."""

import pytest

from engine.control import sweeps
from engine.reads.overfitting import overfitting_odds
from engine.reads.report.session import write_session_report
from engine.sweeps.runner import run_sweep
from tests.conftest import cli, replay_session, store_bars

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
SESSION_SECTIONS = {"metrics": "Metrics beside buy & hold", "equity": "Equity and drawdown",
                    "monthly": "Monthly returns", "trades": "Trade list",
                    "settings": "Fill model and settings", "reconcile": "Reconcile",
                    "montecarlo": "Monte-Carlo of the closed trades"}


def open_offline(new_tab, path) -> tuple:
    """The file in an offline tab; (tab, the URLs it asked for besides itself, errors)."""
    tab = new_tab(offline=True)
    asked, errors = [], []
    tab.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            asked.append(r.request.url)
            r.abort()

    tab.route("**/*", route)
    tab.goto(path.as_uri())
    return tab, asked, errors


def shows_sections(tab, sections: dict[str, str], charts: int) -> None:
    for key, title in sections.items():
        heading = tab.locator(f"section#{key} h2")
        assert heading.inner_text() == title
        assert heading.is_visible()
    tab.wait_for_function(f"document.querySelectorAll('.plotly-graph-div .main-svg')"
                          f".length >= {charts}")


def test_a_session_report_opens_offline_with_every_section(db, env, new_tab, tmp_path):
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"name": "<b>bold</b> name", "symbols": "BTC-USD",
                              "from": "2019-01-01", "to": "2019-04-01",
                              "params": {"fast": 5, "slow": 20}}, status="completed")
    path = write_session_report(db, sid, str(tmp_path / "session.html"))
    tab, asked, errors = open_offline(new_tab, path)
    shows_sections(tab, SESSION_SECTIONS, charts=3)
    assert tab.locator("h1").inner_text() == f"Session #{sid}: <b>bold</b> name"
    assert "100.0 % of fills match" in tab.locator("section#reconcile").inner_text()
    assert tab.locator("section#trades tbody tr").count() > 10
    assert "Probability of ending below the start" in tab.locator(
        "section#montecarlo").inner_text()
    assert asked == []
    assert errors == []


SWEEP_SECTIONS = {"summary": "What was swept", "ranking": "Ranking", "heatmap": "Heatmap",
                  "walkforward": "Walk-forward", "overfitting": "Overfitting odds"}


def test_a_sweep_report_opens_offline_with_every_section(db, env, new_tab, tmp_path):
    store_bars(db, ("BTC-USD", "1h"))
    sid = sweeps.create_sweep(db, {"name": "grid <i>x</i>", "strategy": "ma_crossover",
                                   "symbols": "BTC-USD", "from": "2019-01-01",
                                   "to": "2019-02-01",
                                   "grid": {"fast": "2:9:1", "slow": "30,40"},
                                   "walk_forward": "train=300,test=200"}).id
    assert run_sweep(db, sid, workers=2) == "completed"
    done = cli(env, "sweep", "report", str(sid), "--out", str(tmp_path / "sweep.html"))
    assert done.returncode == 0, done.stderr
    tab, asked, errors = open_offline(new_tab, tmp_path / "sweep.html")
    shows_sections(tab, SWEEP_SECTIONS, charts=2)
    assert tab.locator("section#walkforward tbody tr").count() == 5 + 3  # figures, folds
    assert tab.locator("h1").inner_text() == f"Sweep #{sid}: grid <i>x</i>"
    assert tab.locator("section#ranking tbody tr").count() == 16
    odds = overfitting_odds(db, sid)
    assert f"{odds.pbo:,.6g}" in tab.locator("section#overfitting").inner_text()
    assert asked == []
    assert errors == []
