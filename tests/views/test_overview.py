from engine import queries
from tests.views.conftest import answer_dialog, commands, dialog_titles, run_page
from ui import format as fmt
from ui.desk import totals


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _feed(at):
    """The activity feed's table (the only one with a `kind` column), or None."""
    return next((d.value for d in at.dataframe if "kind" in d.value.columns), None)


def test_overview_renders_state_stats_and_feed(filled, db):
    at = run_page("overview")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "running" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Active agents"] == "4 / 4"
    assert metrics["Active sessions"] == "1"
    assert int(metrics["Trades (last hour)"]) > 0
    assert any("Engine offline" in w.value for w in at.warning)
    feed = _feed(at)
    assert len(feed) > 0
    assert feed["severity"].str.contains("info").any()


def test_master_switch_offers_only_legal_actions_and_records_commands(filled, db):
    at = run_page("overview")
    assert _button(at, "overview_start").disabled
    assert _button(at, "overview_resume").disabled
    assert not _button(at, "overview_pause").disabled
    _button(at, "overview_stop").click().run()
    assert dialog_titles(at) == ["Stop the system?"]
    assert commands(db) == []
    answer_dialog(at, confirm=False)
    assert commands(db) == []
    assert dialog_titles(at) == []
    _button(at, "overview_stop").click().run()
    answer_dialog(at, confirm=True)
    assert commands(db) == [("system", None, "stop", {})]
    assert any("queued" in t.value for t in at.toast)


def test_feed_filters_by_severity_and_text(filled, db):
    at = run_page("overview")
    at.multiselect(key="feed_severity").set_value(["warning", "error"]).run()
    shown = _feed(at)
    assert shown is None or not shown["severity"].str.contains("info").any()
    at.multiselect(key="feed_severity").set_value(["info", "warning", "error"])
    at.text_input(key="feed_text").input("created").run()
    messages = _feed(at)["message"]
    assert len(messages) > 0
    assert messages.str.contains("created").all()


def test_empty_database_reads_well(db):
    at = run_page("overview")
    assert not at.exception
    assert any("Engine offline" in w.value for w in at.warning)
    assert any("No events" in i.value for i in at.info)


def test_desk_shows_money_across_sessions_signed(filled, db):
    at = run_page("overview")
    sessions = queries.sessions(db)
    total = totals(sessions)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Total equity"] == fmt.money(total.equity)
    assert metrics["Total equity"].startswith("$")
    assert "," in metrics["Total equity"]
    assert metrics["Total P&L"] == fmt.signed_money(total.pnl)
    assert metrics["Realized P&L"] == fmt.signed_money(total.realized)
    assert metrics["Unrealized P&L"] == fmt.signed_money(total.unrealized)
    assert abs(total.realized + total.unrealized - total.pnl) < 1e-6
    desk = next(d.value for d in at.dataframe if "P&L" in d.value.columns)
    assert set(desk["name"]) == set(sessions["name"])


def test_health_figure_colour_tells_60_from_100():
    from ui.theme import health_band

    assert health_band(100) == "good"
    assert health_band(60) == "poor"
    assert health_band(85) == "fair"
