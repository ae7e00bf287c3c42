"""The Robustness tab of a session (Monte-Carlo histogram, its percentiles, the report to
download) and the overfitting odds on the Sweeps tab."""

from sqlmodel import Session, select

from engine.control import sweeps
from engine.reads import sweeps as sweep_reads
from engine.reads.overfitting import MEANING
from engine.reads.robustness import monte_carlo
from engine.reads.walk_forward import walk_forward
from engine.store.models import PaperSession
from engine.sweeps.runner import run_sweep
from tests.views.conftest import run_page


def test_the_robustness_tab_shows_the_monte_carlo_of_the_session(filled, db):
    sid = filled["completed"]
    at = run_page("sessions", session_selected=sid, detail_tab="Robustness")
    assert not at.exception
    result = monte_carlo(db, sid).result
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Probability of ending below the start"] == (
        f"{result.probability_below_start * 100:.1f}%")
    assert metrics["Final return, median"] == f"{result.final_return.p50 * 100:+.2f}%"
    assert any(f"{result.n:,} paths" in c.value for c in at.caption)
    assert at.get("plotly_chart")
    assert [b.proto.label for b in at.get("download_button")] == ["Download report (HTML)"]
    at.number_input(key="mc_seed").set_value(7).run()
    assert not at.exception
    seven = monte_carlo(db, sid, seed=7).result
    assert {m.label: m.value for m in at.metric}["Probability of ending below the start"] == (
        f"{seven.probability_below_start * 100:.1f}%")


def test_the_sweeps_tab_says_why_a_small_sweep_has_no_overfitting_odds(filled, db):
    sid = sweeps.create_sweep(db, {"strategy": "ma_crossover", "symbols": "BTC-USD",
                                   "from": "2019-01-01", "to": "2019-02-01",
                                   "grid": {"fast": "5,10", "slow": "30"}}).id
    assert run_sweep(db, sid, workers=1) == "completed"
    at = run_page("sessions", sessions_tab="Sweeps", sweep_pick=sid)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Probability of backtest overfitting"] == "—"
    assert any("PBO needs 16 or more finished variants" in t.value for t in at.text)
    assert any(c.value == MEANING for c in at.caption)
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download sweep report (HTML)"]


def test_the_sweeps_form_creates_a_walk_forward_sweep_and_shows_its_folds(filled, db):
    at = run_page("sessions", sessions_tab="Sweeps")
    at.text_input(key="sweep_param_ma_crossover_fast").set_value("5,10")
    at.text_input(key="sweep_param_ma_crossover_slow").set_value("30")
    at.text_input(key="sweep_from").set_value("2019-01-01")
    at.text_input(key="sweep_to").set_value("2019-02-01")
    at.text_input(key="sweep_walk_forward").set_value("train=300,test=200")
    at.selectbox(key="sweep_objective").set_value("total_return")
    at.selectbox(key="sweep_sentiment").set_value("none")
    at.button(key="sweep_create").click().run()
    assert not at.exception
    listed = sweep_reads.sweeps(db)
    sid = int(listed["id"].iloc[0])
    assert sweep_reads.sweep_document(db, sid).total == 2
    assert run_sweep(db, sid, workers=1) == "completed"
    with Session(db) as s:  # every variant (and fold) trades with the form's sentiment input
        assert set(s.exec(select(PaperSession.sentiment)
                          .where(PaperSession.sweep_id == sid)).all()) == {"none"}
    at = run_page("sessions", sessions_tab="Sweeps", sweep_pick=sid)
    assert not at.exception
    result = walk_forward(db, sid)
    assert result.objective == "total_return"
    assert len(result.folds) == 3
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Out of sample (stitched)"] == f"{result.out_sample_pct:+.2f}%"
    assert any(c.value == result.meaning for c in at.caption)
    folds = next(d.value for d in at.dataframe if "variant_idx" in d.value.columns)
    assert folds["session_id"].tolist() == result.folds["session_id"].tolist()
    at.button(key="walk_rule_start").click().run()
    assert not at.exception
    with Session(db) as s:
        paper = s.execute(select(PaperSession).where(PaperSession.walk_rule.is_not(None))).one()[0]
    first_test = result.folds["test_from"].iloc[0]
    assert (paper.window_from, paper.walk_rule["step_bars"]) == (first_test, 200)
    assert len(paper.walk_rule["candidates"]) == 2
