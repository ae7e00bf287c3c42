from datetime import UTC, datetime, timedelta

import streamlit as st
from sqlalchemy import update
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from engine.reads import desk as desk_reads
from engine.reads import queries
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.leases import EngineWorker
from engine.store.models import AlertAck, Event, PaperSession
from tests.conftest import replay_session, store_bars
from tests.views.conftest import APP, answer_dialog, commands, dialog_titles, run_page
from ui import format as fmt
from ui.alerts import ALERTS_SHOWN
from ui.desk import exposure_table, totals

OIDC = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x",
                 "client_id": "id", "client_secret": "s",
                 "server_metadata_url": "http://localhost/.well-known/openid"},
        "paperdesk": {"operators": ["ops@example.com"]}}


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
    assert int(metrics["Trades (last hour)"].replace(",", "")) > 0
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


def test_desk_tabs_show_exposure_per_symbol_and_daily_pnl_bars(db):
    store_bars(db, ("BTC-USD", "1h"))
    sid = replay_session(db, {"symbols": "BTC-USD", "from": "2019-01-01", "to": "2019-03-03",
                              "params": {"fast": 5, "slow": 20}}, status="completed")
    with session_scope(db) as s:  # a paused session holding BTC at its clock
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(status="paused"))
    held = desk_reads.exposure(db)
    assert list(held.symbols["symbol"]) == ["BTC-USD"]
    at = run_page("overview", desk_tab="Exposure")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "symbol" in d.value.columns)
    assert list(table.columns) == ["symbol", "net quantity (units)", "market value (USD)",
                                   "share of equity (%)", "unrealized P&L (USD)", "sessions"]
    assert list(table["symbol"]) == list(held.symbols["symbol"])
    assert list(table["market value (USD)"]) == list(held.symbols["market_value"])
    shown = exposure_table(held.symbols).to_html()  # as the grid draws it
    first = held.symbols.iloc[0]
    for figure in (fmt.money(first["market_value"]), fmt.pct(first["equity_pct"]),
                   fmt.signed_money(first["unrealized_pnl"])):
        assert f">{figure}<" in shown

    at = run_page("overview", desk_tab="Daily P&L")
    assert not at.exception
    daily = desk_reads.daily_pnl(db)
    assert len(at.get("vega_lite_chart")) == daily["session_id"].nunique() > 0
    assert any(t.value == daily["session"].iloc[0] for t in at.text)


def test_health_figure_colour_tells_60_from_100():
    from ui.theme import health_band

    assert health_band(100) == "good"
    assert health_band(60) == "poor"
    assert health_band(85) == "fair"


def _alerts(db, source: str, kind: str, n: int, severity: str = "warning") -> None:
    with session_scope(db) as s:
        for i in range(n):
            record_event(s, source, kind, f"{source}: alert number {i + 1}", severity)


def _ack_buttons(at) -> dict:
    return {b.key: b for b in at.button if b.key and b.key.startswith("ack_")}


def test_the_newest_alert_groups_are_drawn_and_older_ones_follow_as_they_are_acknowledged(
        filled, db):
    for k in range(ALERTS_SHOWN + 2):  # group 0 oldest
        _alerts(db, f"session-{k + 1}", "alert_loss_streak", 1)
    at = run_page("overview")
    shown = set(_ack_buttons(at)) - {"ack_all"}
    assert shown == {f"ack_session-{k + 1}_alert_loss_streak" for k in range(2, ALERTS_SHOWN + 2)}
    assert any(f"The {ALERTS_SHOWN} newest groups" in c.value for c in at.caption)
    _ack_buttons(at)["ack_all"].click().run()  # the groups listed, not the two older ones
    st.cache_data.clear()  # reads are cached for a second
    at.run()
    assert set(_ack_buttons(at)) - {"ack_all"} == {"ack_session-1_alert_loss_streak",
                                                   "ack_session-2_alert_loss_streak"}
    assert not any("newest groups" in c.value for c in at.caption)


def test_alerts_grouped_with_a_count_and_acknowledged_by_who(filled, db):
    _alerts(db, "session-9", "alert_loss_streak", 3)
    _alerts(db, "market_data", "stale", 1, "error")
    at = run_page("overview")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**session-9** · `alert_loss_streak` · **3×**" in text
    assert "session-9: alert number 3" in text  # the latest message
    assert "session-9: alert number 1" not in text
    _ack_buttons(at)["ack_session-9_alert_loss_streak"].click().run()
    assert "ack_session-9_alert_loss_streak" not in _ack_buttons(at)
    assert "ack_market_data_stale" in _ack_buttons(at)
    with Session(db) as s:
        (ack,) = s.exec(select(AlertAck)).all()
    assert (ack.source, ack.kind, ack.acknowledged_by) == ("session-9", "alert_loss_streak",
                                                           "local user")
    _alerts(db, "session-9", "alert_loss_streak", 1)
    st.cache_data.clear()  # reads are cached for a second
    at.run()
    assert "**session-9** · `alert_loss_streak` · **1×**" in " ".join(m.value for m in at.markdown)
    _ack_buttons(at)["ack_all"].click().run()
    assert not _ack_buttons(at)
    assert any("No unacknowledged" in s.value for s in at.success)


def test_viewers_cannot_acknowledge_alerts(filled, db):
    _alerts(db, "session-9", "alert_drawdown", 2)
    viewer = AppTest.from_file(APP, default_timeout=60)
    viewer.secrets = OIDC
    viewer.user = {"is_logged_in": True, "email": "viewer@example.com"}
    viewer.run()
    buttons = _ack_buttons(viewer)
    assert buttons
    assert all(b.disabled for b in buttons.values())
    with Session(db) as s:
        assert s.exec(select(func.count()).select_from(AlertAck)).one() == 0


def test_test_notification_says_how_many_targets_and_never_shows_them(filled, db,
                                                                      monkeypatch):
    url = "json://127.0.0.1:9/private-token-in-the-url"  # port 9: nothing listens
    monkeypatch.setenv("PAPERDESK_NOTIFY_URLS", url)
    at = run_page("overview")
    assert any(e.label.startswith("Notifications: 1 target") for e in at.expander)
    next(b for b in at.button if b.key == "notify_test").click().run()
    assert not at.exception
    assert any("reached 0 of 1 targets" in w.value for w in at.warning)
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.warning, *at.caption,
                                           *at.success, *at.error))
    assert "private-token" not in shown
    with Session(db) as s:
        failed = s.exec(select(Event).where(Event.kind == "notify_failed")).one()
    assert "0 of 1" in failed.message
    assert "private-token" not in failed.message
    assert "local user" in failed.message


def test_overview_lists_the_workers_alive_and_offline(db):
    assert not any(s.value == "Workers" for s in run_page("overview").subheader)  # one engine
    st.cache_data.clear()  # the page's reads are cached for a moment
    now = datetime.now(UTC)
    with session_scope(db) as s:
        s.add(EngineWorker(id="w1", hostname="host-a", pid=11, heartbeat_at=now,
                           sessions_owned=120, datasets_owned=2, tick_p95_ms=41.5,
                           jobs_running=2, jobs_done=37))
        s.add(EngineWorker(id="w2", hostname="host-b", pid=22,
                           heartbeat_at=now - timedelta(seconds=30), sessions_owned=80))
    at = run_page("overview")
    assert not at.exception
    assert any(s.value == "Workers" for s in at.subheader)
    table = next(d.value for d in at.dataframe if "worker (host:pid)" in d.value.columns)
    rows = table.set_index("worker (host:pid)")
    assert rows.loc["host-a:11", "state"] == "alive"
    assert rows.loc["host-a:11", "sessions"] == 120
    assert (rows.loc["host-a:11", "jobs running"], rows.loc["host-a:11", "jobs done"]) == (2, 37)
    assert rows.loc["host-b:22", "state"] == "offline"
    assert rows.loc["host-b:22", "sessions"] == 0  # an offline worker owns nothing any more
    assert any("1 of 2 alive" in c.value for c in at.caption)
