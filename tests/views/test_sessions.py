from datetime import date

import streamlit as st
from sqlalchemy import update
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from engine.control import actions as control
from engine.control import windows
from engine.reads import queries
from engine.store.db import session_scope
from engine.store.models import Command, PaperSession
from engine.trading.clock import SessionBook
from tests.views.conftest import (
    APP,
    advance,
    answer_dialog,
    apply_commands,
    commands,
    count_sessions,
    dialog_titles,
    run_page,
)
from ui import format as fmt


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _fill_form(at, name: str, symbols: list[str]) -> None:
    at.text_input(key="new_name").input(name)
    at.multiselect(key="new_symbols").set_value(symbols).run()


def test_list_detail_and_lineage(filled, db):
    at = run_page("sessions", session_selected=filled["running"], detail_tab="Trades")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["name"]) == {"trend", "finished", "idle", "done"}
    assert any("trend" in m.value and "running" in m.value for m in at.markdown)
    labels = {m.label for m in at.metric}
    assert {"Equity", "Buy and hold", "Win rate", "Max drawdown", "Sharpe (annualized)"} <= labels
    trades = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert trades["why"].str.contains("MA crossed").all()
    assert trades["indicators"].str.contains("fast_ma").all()
    assert any("market time" in c.value and "wall time" in c.value for c in at.caption)


def test_performance_tab_draws_the_equity_curve(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    (chart,) = at.get("vega_lite_chart")
    assert '"drawdown %"' in chart.proto.spec
    assert "market time" in chart.proto.spec
    assert "equity (USD)" in chart.proto.spec


def test_clock_shows_window_progress_and_speed(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    doc = queries.session_document(db, filled["running"])
    (bar,) = at.get("progress")
    assert f"Bar {doc.bars_done:,} of {doc.bars_total:,}" in bar.proto.text
    assert "market time" in bar.proto.text
    assert any("window" in m.value and "1 bar/s" in m.value for m in at.markdown)
    at.selectbox(key=f"speed_pick_{filled['running']}").set_value("max").run()
    _button(at, "sess_speed").click().run()
    assert commands(db)[-1] == ("session", str(filled["running"]), "speed", {"speed": None})


def test_fast_forward_to_a_date_then_play(filled, db):
    sid = filled["running"]
    doc = queries.session_document(db, sid)
    stop_at = doc.window_to.date()
    at = run_page("sessions", session_selected=sid)
    at.date_input(key=f"ff_until_{sid}").set_value(stop_at)
    at.selectbox(key=f"ff_then_{sid}").set_value("10").run()
    _button(at, "sess_ff").click().run()
    assert not at.exception
    target, kind, action, payload = commands(db)[-1]
    assert (target, kind, action) == ("session", str(sid), "speed")
    assert payload["speed"] is None
    assert payload["then"] == 10
    assert payload["until"].startswith(stop_at.isoformat())


def test_completed_session_shows_a_full_clock_and_no_speed_control(filled, db):
    at = run_page("sessions", session_selected=filled["completed"])
    assert any("finished" in m.value and "completed" in m.value and "violet" in m.value
               for m in at.markdown)
    (bar,) = at.get("progress")
    assert "(100.0%)" in bar.proto.text
    assert _button(at, "sess_speed").disabled
    assert _button(at, "sess_pause").disabled
    assert not _button(at, "sess_archive").disabled


def test_waiting_clock_says_why(filled, db):
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == filled["running"]).values(
            wait_reason="strategy agent stopped: decisions held"))
    at = run_page("sessions", session_selected=filled["running"])
    assert any("decisions held" in w.value for w in at.warning)


def test_reconcile_tab_matches_a_replay_session(filled, db):
    at = run_page("sessions", session_selected=filled["completed"], detail_tab="Reconcile")
    assert any("compares the fills" in c.value for c in at.caption)
    _button(at, "reconcile_run").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fills matched"] == "100.0%"
    assert int(metrics["Fills expected"].replace(",", "")) > 0
    assert any("Every fill matches" in s.value for s in at.success)


def test_reconcile_names_a_settings_change(filled, db, env):
    sid = filled["running"]
    control.update_session_config(db, sid, {"fast": "5"})
    assert apply_commands(db, env) == 1  # as the engine applies it; then traded on
    advance(db, SessionBook(db), sid, 400)
    at = run_page("sessions", session_selected=sid, detail_tab="Reconcile")
    _button(at, "reconcile_run").click().run()
    assert not at.exception
    assert any("Settings changed after bar" in c.value and "fast 3 → 5" in c.value
               for c in at.caption)
    assert float(next(m.value for m in at.metric if m.label == "Fills matched")[:-1]) < 100
    diffs = next(d.value for d in at.dataframe if "cause" in d.value.columns)
    assert diffs["cause"].str.startswith("settings changed after bar").all()


def test_new_session_form_shows_every_bad_field_at_once_and_saves_nothing(filled, db):
    before = count_sessions(db)
    at = run_page("sessions", sessions_tab="New session")
    assert "1 to 1,000,000,000" in at.number_input(key="new_cash").help  # the engine's Param
    at.selectbox(key="new_strategy").set_value("ma_crossover").run()
    at.text_input(key="new_param_ma_crossover_fast").input("fast").run()
    _button(at, "new_create").click().run()  # no name, no symbols, a word for a number
    errors = [e.value for e in at.error]
    assert len(errors) == 3
    assert any(e.startswith("**Name**") and "1 to 100 characters" in e for e in errors)
    assert any(e.startswith("**Symbols**") and "at least one symbol" in e for e in errors)
    assert any(e.startswith("**fast**") and "must be a whole number" in e for e in errors)
    assert any("3 fields to fix" in w.value for w in at.warning)
    assert count_sessions(db) == before
    _fill_form(at, "form test", ["BTC-USD"])
    at.text_input(key="new_param_ma_crossover_fast").input("5").run()
    at.number_input(key="new_cash").set_value(2500.0).run()
    _button(at, "new_create_start").click().run()
    assert not at.error
    assert count_sessions(db) == before + 1
    with Session(db) as s:
        made = s.exec(select(PaperSession).where(PaperSession.name == "form test")).one()
        start = s.exec(select(Command).where(Command.target_id == str(made.id))).one()
    assert made.starting_cash == 2500
    assert start.action == "start"
    assert at.session_state["new_name"] == ""  # reset: a second click cannot make a twin
    assert at.session_state["session_selected"] == made.id
    assert any("form test" in m.value and "created" in m.value for m in at.markdown)


def test_the_form_creates_a_session_that_trades_on_stored_news(filled, db):
    at = run_page("sessions", sessions_tab="New session")
    at.selectbox(key="new_strategy").set_value("blend").run()
    assert at.selectbox(key="new_sentiment").value == "price-mood"  # today's input, labelled
    assert at.selectbox(key="new_sentiment").options == [
        "stored news (headline scores)", "price mood (its own closes)", "none"]
    _fill_form(at, "on news", ["BTC-USD"])
    at.selectbox(key="new_sentiment").set_value("news").run()
    _button(at, "new_create").click().run()
    assert not at.error
    with Session(db) as s:
        made = s.exec(select(PaperSession).where(PaperSession.name == "on news")).one()
    assert (made.strategy, made.sentiment) == ("blend", "news")
    at = run_page("sessions", session_selected=made.id)
    assert any("sentiment: news" in c.value for c in at.caption)


def test_form_names_a_cross_parameter_problem(filled, db):
    at = run_page("sessions", sessions_tab="New session")
    _fill_form(at, "cross", ["BTC-USD"])
    at.selectbox(key="new_strategy").set_value("ma_crossover").run()
    at.text_input(key="new_param_ma_crossover_fast").input("50").run()
    _button(at, "new_create").click().run()
    (error,) = at.error
    assert "fast must be below param slow" in error.value


def test_form_defaults_to_the_latest_bars_and_refuses_a_window_without_data(filled, db):
    before = count_sessions(db)
    at = run_page("sessions", sessions_tab="New session")
    _fill_form(at, "too early", ["BTC-USD"])
    ranges = next(d.value for d in at.dataframe if "first" in d.value.columns)
    assert list(ranges["symbol"]) == ["BTC-USD"]
    start, end = at.date_input(key="new_from").value, at.date_input(key="new_to").value
    latest = windows.replay_window(["BTC-USD"], "1h", None, None)  # the latest 1,000 bars
    assert (start, end) == (latest.start.date(), latest.end.date())
    assert end == ranges["last"].iloc[0].date()
    at.date_input(key="new_from").set_value(date(2010, 1, 1)).run()
    _button(at, "new_create_start").click().run()
    (error,) = at.error
    assert error.value.startswith("**From**")
    assert "BTC-USD 1h data starts 2017-07-01" in error.value
    assert count_sessions(db) == before
    at.date_input(key="new_from").set_value(date(2019, 6, 1))
    at.date_input(key="new_to").set_value(date(2019, 7, 1))
    at.selectbox(key="new_speed").set_value("max").run()
    _button(at, "new_create").click().run()
    with Session(db) as s:
        made = s.exec(select(PaperSession).where(PaperSession.name == "too early")).one()
    assert (made.speed, made.window_from.date(), made.window_to.date()) == (
        None, date(2019, 6, 1), date(2019, 7, 1))


def test_empty_list_offers_presets_that_create_real_sessions(db):
    at = run_page("sessions")
    assert not at.exception
    assert any("No sessions yet" in i.value for i in at.info)
    _button(at, "preset_BTC hourly · MA crossover").click().run()
    with Session(db) as s:
        made = s.exec(select(PaperSession)).one()
    assert (made.symbols, made.timeframe, made.strategy) == ("BTC-USD", "1h", "ma_crossover")
    assert commands(db) == [("session", str(made.id), "start", {})]


def test_comparison_of_different_windows_uses_bars_since_start(filled, db):
    at = run_page("sessions", sessions_tab="Compare")
    at.multiselect(key="compare_ids").set_value([filled["running"], filled["completed"]]).run()
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    assert "bars since start" in chart.proto.spec
    assert any("bars since each session's start" in c.value for c in at.caption)
    metrics = at.dataframe[-1].value
    assert len(metrics) == 2
    assert {"return_pct", "max_drawdown_pct", "sharpe", "window"} <= set(metrics.columns)


def test_comparison_of_one_window_uses_market_time(filled, db):
    twin = control.create_session(db, {"name": "twin", "strategy": "rsi_reversion",
                                       "symbols": "BTC-USD", "timeframe": "1d",
                                       "from": "2019-01-01"}).id  # the completed one's window
    at = run_page("sessions", sessions_tab="Compare")
    at.multiselect(key="compare_ids").set_value([filled["completed"], twin]).run()
    assert any("share one window" in c.value for c in at.caption)
    (chart,) = at.get("plotly_chart")
    assert "market time" in chart.proto.spec


def test_session_stop_asks_and_says_what_happens_to_positions(filled, db):
    sid = filled["running"]
    doc = queries.session_document(db, sid)
    at = run_page("sessions", session_selected=sid)
    _button(at, "sess_stop").click().run()
    assert dialog_titles(at) == [f"Stop session #{sid}?"]
    text = " ".join(m.value for m in at.markdown)
    if doc.positions:
        assert "stay open" in text
        assert "last close" in text
        at.checkbox(key="confirm_close").check().run()
        assert "will be sold at the session's last close" in " ".join(
            m.value for m in at.markdown)
    answer_dialog(at, confirm=False)
    assert commands(db) == []
    assert dialog_titles(at) == []
    _button(at, "sess_stop").click().run()
    if doc.positions:
        at.checkbox(key="confirm_close").check().run()
    answer_dialog(at, confirm=True)
    assert commands(db)[-1] == ("session", str(sid), "stop",
                                {"close_positions": bool(doc.positions)})


def test_stop_all_asks_first(filled, db):
    at = run_page("sessions")
    _button(at, "bulk_stop_all").click().run()
    assert dialog_titles(at) == ["Stop every session?"]
    answer_dialog(at, confirm=False)
    assert commands(db) == []


def test_a_session_link_opens_that_session_and_the_url_follows(filled, db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["session"] = str(filled["completed"])
    at.switch_page("views/sessions.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="session_pick").value == filled["completed"]
    at.selectbox(key="session_pick").set_value(filled["running"]).run()
    assert at.query_params["session"] == str(filled["running"])


def test_ratios_wait_for_enough_trades(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    doc = queries.session_document(db, filled["running"])
    metrics = {m.label: m.value for m in at.metric}
    if doc.trades < fmt.MIN_TRADES_FOR_RATIOS:
        assert metrics["Sharpe (annualized)"] == "—"
    assert metrics["Equity"] == fmt.money(doc.equity)
    assert metrics["Realized P&L"] == fmt.signed_money(doc.metrics["realized_pnl"])


def _save_params(at: AppTest, sid: int, **typed: str) -> AppTest:
    for name, text in typed.items():
        at.text_input(key=f"edit_param_{sid}_0_{name}").input(text)
    return _button(at, "edit_params_save").click().run()


def test_edit_parameters_refuses_by_field_then_queues_the_change_into_the_history(
        filled, db, env):
    sid = filled["running"]
    at = run_page("sessions", session_selected=sid, detail_tab="Parameters")
    assert [at.text_input(key=f"edit_param_{sid}_0_{n}").value for n in ("fast", "slow")] == [
        "3", "8"]
    assert any("No changes" in c.value for c in at.caption)
    _save_params(at, sid, fast="abc")
    assert commands(db) == []
    assert any(e.value.startswith("**fast** must be a whole number") for e in at.error)
    assert any("Not saved: 1 field to fix" in e.value for e in at.error)
    _save_params(at, sid, fast="9")  # each is fine; together fast is not below slow
    assert commands(db) == []
    assert any("must be below param slow" in e.value for e in at.error)
    _save_params(at, sid, fast="4", slow="12")
    assert commands(db) == [("session", str(sid), "configure",
                             {"params": {"fast": 4, "slow": 12}})]
    apply_commands(db, env)
    st.cache_data.clear()  # reads are cached for a second
    at = run_page("sessions", session_selected=sid, detail_tab="Parameters")
    assert at.text_input(key=f"edit_param_{sid}_1_fast").value == "4"
    (history,) = [d.value for d in at.dataframe if "change" in d.value.columns]
    assert list(history["change"]) == ["fast 3 → 4, slow 8 → 12"]
    assert list(history["by"]) == ["local user"]


def test_edit_parameters_is_off_for_a_finished_session(filled, db):
    sid = filled["completed"]
    at = run_page("sessions", session_selected=sid, detail_tab="Parameters")
    assert at.text_input(key=f"edit_param_{sid}_0_fast").disabled
    assert _button(at, "edit_params_save").disabled
    assert _button(at, "sess_archive")
    assert not any(b.key == "sess_close_position" for b in at.button)
