from sqlmodel import Session, select

from engine.models import Command, PaperSession
from tests.views.conftest import commands, count_sessions, run_page


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_list_detail_and_lineage(filled, db):
    at = run_page("sessions", session_selected=filled["running"], detail_tab="Trades")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["name"]) == {"trend", "idle", "done"}
    assert any("trend" in m.value and "running" in m.value for m in at.markdown)
    labels = {m.label for m in at.metric}
    assert {"Equity", "Buy and hold", "Win rate", "Max drawdown", "Sharpe (annualized)"} <= labels
    trades = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert trades["why"].str.contains("MA crossed").all()
    assert trades["indicators"].str.contains("fast_ma").all()


def test_performance_tab_draws_the_equity_curve(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    (chart,) = at.get("plotly_chart")
    assert '"drawdown %"' in chart.proto.spec


def test_per_session_buttons_follow_the_lifecycle(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    assert _button(at, "sess_start").disabled
    assert _button(at, "sess_resume").disabled
    _button(at, "sess_pause").click().run()
    assert commands(db)[-1] == ("session", str(filled["running"]), "pause", {})


def test_stop_can_close_positions_and_bulk_actions_record_commands(filled, db):
    at = run_page("sessions", session_selected=filled["running"])
    at.checkbox(key="close_on_stop").check().run()
    _button(at, "sess_stop").click().run()
    assert commands(db)[-1] == ("session", str(filled["running"]), "stop",
                                {"close_positions": True})
    _button(at, "bulk_pause_all").click().run()
    assert commands(db)[-1] == ("session", None, "pause_all", {})


def test_stopped_session_can_be_archived_and_hidden(filled, db):
    at = run_page("sessions", session_selected=filled["stopped"])
    _button(at, "sess_archive").click().run()
    with Session(db) as s:
        assert s.get(PaperSession, filled["stopped"]).archived
    at.run()
    assert "done" not in set(at.dataframe[0].value["name"])
    at.toggle(key="show_archived").set_value(True).run()
    assert "done" in set(at.dataframe[0].value["name"])


def test_new_session_form_names_the_bad_field_and_saves_nothing(filled, db):
    before = count_sessions(db)
    at = run_page("sessions", sessions_tab="New session")
    at.text_input(key="new_name").input("form test")
    at.multiselect(key="new_symbols").set_value(["BTC-USD"])
    at.text_input(key="new_cash").input("-3").run()
    _button(at, "new_create").click().run()
    assert any("cash must be at least" in e.value for e in at.error)
    assert count_sessions(db) == before
    at.text_input(key="new_cash").input("2500").run()
    _button(at, "new_create_start").click().run()
    assert count_sessions(db) == before + 1
    with Session(db) as s:
        made = s.exec(select(PaperSession).where(PaperSession.name == "form test")).one()
        start = s.exec(select(Command).where(Command.target_id == str(made.id))).one()
    assert made.starting_cash == 2500
    assert start.action == "start"


def test_empty_list_offers_presets_that_create_real_sessions(db):
    at = run_page("sessions")
    assert not at.exception
    assert any("No sessions yet" in i.value for i in at.info)
    _button(at, "preset_BTC hourly · MA crossover").click().run()
    with Session(db) as s:
        made = s.exec(select(PaperSession)).one()
    assert (made.symbols, made.timeframe, made.strategy) == ("BTC-USD", "1h", "ma_crossover")
    assert commands(db) == [("session", str(made.id), "start", {})]


def test_comparison_of_two_sessions(filled, db):
    at = run_page("sessions", sessions_tab="Compare")
    at.multiselect(key="compare_ids").set_value([filled["running"], filled["created"]]).run()
    assert not at.exception
    metrics = at.dataframe[-1].value
    assert len(metrics) == 2
    assert {"return_pct", "max_drawdown_pct", "sharpe"} <= set(metrics.columns)
