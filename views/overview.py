"""Overview: the system control panel, the desk (money across sessions), health, alerts and
the activity feed."""

from functools import partial

import pandas as pd
import streamlit as st

from engine.control import actions as control
from engine.errors import ConfigError
from engine.log_files import SEVERITIES
from engine.reads import desk as desk_reads
from engine.reads import queries, status, summary
from engine.reads.status import HEALTH_FORMULA
from ui import charts, confirm, context
from ui.alerts import ALERTS_SHOWN, acknowledge, send_test
from ui.desk import by_session, exposure_table, pnl_px, styled, totals
from ui.desk import table as desk_table
from ui.format import CURRENCY_CODE, literal, money, pct, signed_money, signed_pct
from ui.paging import pager
from ui.theme import (
    BAR_FORMAT,
    MARKET,
    SEVERITY_HEX,
    SEVERITY_ICON,
    STATUS_HEX,
    TIME_FORMAT,
    WALL,
    badge,
    health_band,
    pnl_key,
)

TIME = {"ts": st.column_config.DatetimeColumn(f"time ({WALL})", format=TIME_FORMAT),
        "last_bar": st.column_config.DatetimeColumn(f"last bar ({MARKET})", format=BAR_FORMAT)}

# Name, status and P&L first and narrow: on a phone they are what fits (the id stays in the
# data for the row click).
FEED_ROWS = 50  # styled rows cost a page run (ui.paging); the CLI lists more
DESK_COLUMNS = {"name": st.column_config.Column("session", width=110),
                "status": st.column_config.Column(width=100)}

ACTIONS = {
    "start": ("Start", ":material/play_arrow:",
              "Start every agent and resume the sessions the system had paused"),
    "stop": ("Stop", ":material/stop:",
             "Stop every agent and halt all trading within one tick (sessions pause)"),
    "pause": ("Pause", ":material/pause:", "Pause every running session; agents keep running"),
    "resume": ("Resume", ":material/resume:", "Resume the sessions the system paused"),
}

st.title("Overview")


@st.fragment(run_every=context.refresh_every())
def control_panel() -> None:
    state = context.read(summary.system_summary)
    if context.engine_starting() and not state.engine.online:
        context.starting_notice("The dashboard started the engine; status, health and the "
                                "switch appear once it runs (a few seconds).")
        return
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.markdown(f"### System {badge(state.status)}")
    if not state.engine.online:
        left.warning("Engine offline: commands stay queued until it returns.",
                     icon=":material/cloud_off:")
    cols = right.container(key="pair_switch").columns(4)
    for col, (action, (label, icon, tip)) in zip(cols, ACTIONS.items(), strict=True):
        disabled = action not in state.allowed or not context.can_control()
        if action == "stop":
            if col.button(label, key="overview_stop", icon=icon, help=f"{tip} (asks first)",
                          disabled=disabled, width="stretch"):
                confirm.ask(confirm.system_stop())
            continue
        col.button(label, key=f"overview_{action}", icon=icon, help=tip, disabled=disabled,
                   on_click=context.act, args=(f"System {action}", control.system_action,
                                               action),
                   width="stretch")
    context.show_last_error()

    health = context.read(status.health)
    active_sessions = state.sessions.get("running", 0) + state.sessions.get("waiting", 0)
    a, b, c, d = st.container(key="pair_health").columns(4)
    a.metric("Active agents", f"{health.agents_running} / {health.agents_total}",
             help="Agents running with no failing ticks, out of all registered agents")
    b.metric("Active sessions", f"{active_sessions:,}",
             help=f"Running paper sessions ({state.sessions.get('waiting', 0):,} of them "
                  f"waiting); {state.sessions.get('paused', 0):,} paused "
                  "(sweeps' variants are on the Sessions page's Sweeps tab)")
    c.metric("Trades (last hour)", f"{state.fills_last_hour:,}",
             help=f"Fills of paper sessions in the last hour; {state.pending_orders:,} orders "
                  f"pending. Sweeps' backtests filled {state.sweep_fills_last_hour:,} more.")
    with d.container(key=f"health_{health_band(health.score)}"):
        st.metric("System health", f"{health.score:.0f}%", help=health.formula)


@st.fragment(run_every=context.refresh_every())
def desk() -> None:
    """Money across sessions, then one row per session; a row opens that session's page."""
    context.leave_for_opened_session()
    sessions = context.read(queries.sessions)
    st.subheader("Desk")
    if sessions.empty:
        st.info("No sessions yet: create one on the Sessions page.", icon=":material/info:")
        return
    total = totals(sessions)
    a, b, c, d = st.container(key="pair_desk").columns(4)
    a.metric("Total equity", money(total.equity),
             help=f"{total.sessions} sessions; {money(total.starting_cash)} starting cash")
    with b.container(key=pnl_key("total", total.pnl)):
        st.metric("Total P&L", signed_money(total.pnl), signed_pct(total.return_pct),
                  help="Equity minus starting cash, over every session listed")
    with c.container(key=pnl_key("realized", total.realized)):
        st.metric("Realized P&L", signed_money(total.realized),
                  help="From closed trades, after fees")
    with d.container(key=pnl_key("unrealized", total.unrealized)):
        st.metric("Unrealized P&L", signed_money(total.unrealized),
                  help="Open positions marked at each session's last close")
    # Stateful tabs: only the open one reads and draws.
    listed, held, days = st.tabs(["Sessions", "Exposure", "Daily P&L"], key="desk_tab",
                                 on_change="rerun")
    if listed.open:
        with listed:
            session_rows(sessions)
    if held.open:
        with held:
            exposure()
    if days.open:
        with days:
            daily_pnl()


def session_rows(sessions: pd.DataFrame) -> None:
    offset, limit = pager(len(sessions), "desk_page", "sessions")
    view = desk_table(sessions.iloc[offset:offset + limit])
    st.dataframe(styled(view, STATUS_HEX), hide_index=True, width="stretch", key="desk_table",
                 on_select=partial(context.ask_to_open, "desk_table", [int(i) for i in view["id"]]),
                 selection_mode="single-row", height=min(38 + 35 * len(view), 420),
                 column_config={**DESK_COLUMNS,
                                "P&L": st.column_config.Column(width=pnl_px(view))},
                 column_order=[c for c in view.columns if c != "id"])
    st.caption("Click a row to open its session.")


def exposure() -> None:
    """What the running and paused sessions hold, per symbol."""
    held = context.read(desk_reads.exposure)
    if held.symbols.empty:
        st.info(f"No open positions in the {held.sessions} running or paused sessions.",
                icon=":material/info:")
        return
    st.container(key="desk_exposure").dataframe(exposure_table(held.symbols), hide_index=True,
                                                width="stretch")
    invested = float(held.symbols["market_value"].sum())
    st.caption(f"Open positions of the {held.sessions} running or paused sessions (sweep "
               "variants and archived sessions left out), each marked at the close of its "
               f"session's current bar. {money(invested)} invested, "
               f"{pct(invested / held.equity * 100 if held.equity else None)} of their "
               f"{money(held.equity)} total equity.")


def daily_pnl() -> None:
    """Each of the latest running or paused sessions' P&L per day of its own clock."""
    daily = context.read(desk_reads.daily_pnl)
    if daily.empty:
        st.info("No running or paused session has traded a bar yet.", icon=":material/info:")
        return
    spec = charts.daily_pnl_spec(CURRENCY_CODE)
    columns = st.columns(3)
    for i, (sid, label, days) in enumerate(by_session(daily)):
        with columns[i % 3].container(key=f"daily_pnl_{sid}"):
            st.text(label)
            st.vega_lite_chart(days, spec, width="stretch")
            st.caption(f"{signed_money(days['pnl'].sum())} over these {len(days)} days")
    st.caption(f"The latest {desk_reads.DAILY_SESSIONS} running or paused sessions at most; "
               f"each bar is a day of the session's own clock ({MARKET}, UTC days) over its "
               f"last {desk_reads.DAYS} days: the equity at the day's last bar minus the one "
               "before (the starting cash before its first bar). Days without a bar are "
               "left out.")


@st.fragment(run_every=context.refresh_every())
def health_details() -> None:
    health = context.read(status.health)
    with st.expander("Health details", icon=":material/monitor_heart:"):
        st.caption(HEALTH_FORMULA)
        a, b, c, d = st.columns(4)
        a.metric("Heartbeat age", "—" if health.heartbeat_age_s is None
                 else f"{health.heartbeat_age_s:.1f} s")
        b.metric("Errors (last hour)", health.errors_last_hour)
        c.metric("Engine CPU", f"{health.engine_cpu_pct:.0f}%")
        d.metric("Engine memory", f"{health.engine_rss_mb:.0f} MB")
        agents = context.read(queries.agents)
        if len(agents):
            ticks = pd.DataFrame({
                "agent": agents["id"], "status": agents["condition"],
                "failing ticks": agents["consecutive_errors"], "last error": agents["last_error"],
                "last tick ms": agents["last_tick_ms"],
                "tick p95 ms": [s.get("tick_p95_ms") for s in agents["summary"]],
            })
            st.dataframe(ticks, hide_index=True, width="stretch")
        if health.data:
            st.caption("Data freshness: the newest bar of each dataset")
            st.dataframe(pd.DataFrame(health.data), hide_index=True, width="stretch",
                         column_config=TIME)


@st.fragment(run_every=context.refresh_every())
def fleet() -> None:
    """The workers sharing the database (PostgreSQL); nothing on SQLite's single engine."""
    workers = context.read(queries.workers)
    if workers.empty:
        return
    alive = int((workers["state"] == "alive").sum())
    st.subheader("Workers")
    st.caption(f"{alive} of {len(workers)} alive: each running session is owned by one worker; "
               "a worker without a heartbeat for 3 s is offline and its sessions move to the "
               "others. Sweep variants are jobs on a shared queue that any worker takes.")
    st.dataframe(workers.rename(columns={
        "holder": "worker (host:pid)", "sessions_owned": "sessions", "datasets_owned": "datasets",
        "jobs_running": "jobs running", "jobs_done": "jobs done",
        "age_s": "heartbeat (s ago)", "tick_p95_ms": "tick p95 (ms)", "cpu_pct": "CPU %",
        "rss_mb": "memory (MB)"}), hide_index=True, width="stretch",
        column_config={"heartbeat (s ago)": st.column_config.NumberColumn(format="%.1f"),
                       "tick p95 (ms)": st.column_config.NumberColumn(format="%.1f")})


def _styled(feed: pd.DataFrame):
    feed = feed.assign(severity=feed["severity"].map(SEVERITY_ICON))
    colours = {v: SEVERITY_HEX[k] for k, v in SEVERITY_ICON.items()}
    return feed.style.map(lambda v: f"color: {colours.get(v, 'inherit')}; font-weight: 600",
                          subset=["severity"])


def _group_key(group) -> str:
    return f"ack_{group.source}_{group.kind}"


@st.fragment(run_every=context.refresh_every())
def alerts() -> None:
    """Unacknowledged warnings and errors, one row per source and kind, newest first."""
    groups = context.read(status.alert_groups, limit=ALERTS_SHOWN + 1)
    more, groups = len(groups) > ALERTS_SHOWN, groups[:ALERTS_SHOWN]
    title, everything = st.columns([3, 1], vertical_alignment="bottom")
    title.subheader("Alerts")
    if not groups:
        st.success("No unacknowledged warnings or errors.", icon=":material/check_circle:")
        return
    allowed = context.can_control()
    why = "" if allowed else " (read-only: your account may not)"
    everything.button("Acknowledge all", key="ack_all", icon=":material/done_all:",
                      disabled=not allowed, width="stretch", on_click=acknowledge, args=(groups,),
                      help=f"Hide every alert group listed; a new alert shows its group again{why}")
    for group in groups:
        with st.container(border=True, key=f"alert_{group.source}_{group.kind}"):
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f":{'red' if group.severity == 'error' else 'orange'}-badge["
                          f"{SEVERITY_ICON[group.severity]}] **{group.source}** · "
                          f"`{group.kind}` · **{group.count}×**")
            text.markdown(literal(group.message))
            text.caption(f"first {group.first_ts:%Y-%m-%d %H:%M:%S} · last "
                         f"{group.last_ts:%Y-%m-%d %H:%M:%S} ({WALL})")
            button.button("Acknowledge", key=_group_key(group), disabled=not allowed,
                          width="stretch", on_click=acknowledge, args=([group],),
                          help=f"Hide these {group.count} alerts until a new one{why}")
    if more:
        st.caption(f"The {ALERTS_SHOWN} newest groups; older ones show as these are "
                   "acknowledged (`python -m engine events --severity error` and "
                   "`--severity warning` list every one).")


def notifications() -> None:
    """Where alerts go outside the app, and a test message to check that they arrive."""
    targets = len(context.settings().notify_urls)
    with st.expander(f"Notifications: {targets} target{'s' if targets != 1 else ''}",
                     icon=":material/notifications:"):
        st.caption("Agent errors, engine downtime, drawdown, loss-streak, large-trade and "
                   "stale-data alerts go out through apprise to the URLs in "
                   "PAPERDESK_NOTIFY_URLS (environment or secrets; never shown here).")
        if not st.button("Send test notification", key="notify_test",
                         icon=":material/send:", disabled=not targets or not context.can_control(),
                         help="Send one test message to every target"):
            return
        try:
            with st.spinner("Sending…"):
                outcome = send_test()
        except ConfigError as exc:
            st.error(literal(exc), icon=":material/error:")
            return
        if outcome.ok:
            st.success(f"Test notification sent to all {outcome.targets} targets.",
                       icon=":material/check_circle:")
        else:
            st.warning(f"Test notification reached {outcome.reached} of {outcome.targets} "
                       "targets; the failure is recorded as an alert.",
                       icon=":material/warning:")


def activity_feed() -> None:
    st.subheader("Activity feed")
    a, b, c = st.columns([2, 1, 2])
    severity = a.multiselect("Severity", SEVERITIES, default=list(SEVERITIES),
                             format_func=SEVERITY_ICON.get, key="feed_severity")
    sources = ["all", *context.read(queries.event_sources)]
    source = b.selectbox("Source", sources, key="feed_source")
    text = c.text_input("Search", key="feed_text", placeholder="text in the message")

    @st.fragment(run_every=context.refresh_every())
    def table() -> None:
        feed = context.read(queries.events, limit=FEED_ROWS, severity=tuple(severity) or None,
                            source=None if source == "all" else source, text=text or None)
        if feed.empty:
            st.info("No events match.", icon=":material/info:")
            return
        st.dataframe(_styled(feed[["ts", "severity", "source", "kind", "message"]]),
                     hide_index=True, width="stretch", height=420,
                     column_config=TIME)
        if len(feed) == FEED_ROWS:
            st.caption(f"The latest {FEED_ROWS} events that match; `python -m engine events "
                       "--limit N` lists more.")

    table()


control_panel()
desk()
health_details()
fleet()
alerts()
notifications()
activity_feed()
