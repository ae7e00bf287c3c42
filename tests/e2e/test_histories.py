"""Issue 19 in a real browser: every chart draws the whole history (equity, drawdown, candles,
Compare), downsampled on the server so the extremes survive."""

import re

import pytest

from engine.reads import queries
from tests.conftest import replay_session, store_bars, wait_until
from tests.e2e.conftest import goto, no_exception, open_tab, pick_sessions

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
LONG = {"symbols": "BTC-USD", "timeframe": "1h", "from": "2018-01-01", "to": "2019-06-01"}
PLOTTED = """() => [...document.querySelectorAll('.stPlotlyChart .js-plotly-plot')]
    .flatMap(plot => plot._fullData.map(trace => ({first: trace.customdata[0],
                                               lowest: Math.min(...Array.from(trace.y))})))"""


@pytest.fixture(scope="module")
def long_sessions(app) -> list[int]:
    url, env, db = app
    store_bars(db, ("BTC-USD", "1h"))
    return [replay_session(db, {**LONG, "name": f"long {fast}/{slow}",
                                "params": {"fast": fast, "slow": slow}}, status="completed")
            for fast, slow in ((5, 20), (8, 30))]


def test_equity_and_drawdown_span_the_whole_window(app, page, long_sessions):
    url, env, db = app
    sid = long_sessions[0]
    doc = queries.session_document(db, sid)
    goto(page, url, f"sessions?session={sid}")
    page.locator(".st-key-equity_chart svg.marks").wait_for()
    caption = page.get_by_text("The whole history")
    assert "2018-01-01 00:00" in caption.inner_text()
    deepest = re.search(r"deepest drawdown drawn: ([\d.]+)%", caption.inner_text()).group(1)
    assert deepest == f"{doc.metrics['max_drawdown_pct']:.2f}"
    no_exception(page)


def test_candles_span_the_whole_window(app, page, long_sessions):
    url, env, db = app
    goto(page, url, f"sessions?session={long_sessions[0]}")
    open_tab(page, "Chart")
    page.locator(".st-key-candles_chart svg.marks").wait_for(timeout=60_000)
    caption = page.get_by_text(re.compile("^All [0-9,]+ bars"))
    assert "All 12,385 bars, 2018-01-01 00:00" in caption.inner_text()
    no_exception(page)


def test_compare_draws_each_session_from_its_first_bar(app, page, long_sessions):
    url, env, db = app
    goto(page, url, "sessions")
    open_tab(page, "Compare")
    pick_sessions(page, "compare_ids", long_sessions, "long")
    page.locator(".stPlotlyChart g.trace.scatter").nth(1).wait_for()
    wait_until(lambda: len(page.evaluate(PLOTTED)) == 2, 30, poll=0.5, message="two curves")
    for sid, line in zip(long_sessions, page.evaluate(PLOTTED), strict=True):
        assert line["first"] == "2018-01-01 00:00"
        curve = queries.equity_curve(db, sid, limit=None)
        start = queries.session_document(db, sid).starting_cash
        lowest = (curve["equity"].min() / start - 1) * 100
        assert line["lowest"] == pytest.approx(lowest)
    no_exception(page)
