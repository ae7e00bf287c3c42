"""Overview: the system control panel, quick stats, health, alerts and the activity feed."""

import pandas as pd
import streamlit as st

from engine import control
from engine.events import SEVERITIES
from engine.queries import HEALTH_FORMULA
from ui import context
from ui.theme import BAR_FORMAT, MARKET, SEVERITY_HEX, SEVERITY_ICON, TIME_FORMAT, WALL, badge

TIME = {"ts": st.column_config.DatetimeColumn(f"time ({WALL})", format=TIME_FORMAT),
        "last_bar": st.column_config.DatetimeColumn(f"last bar ({MARKET})", format=BAR_FORMAT)}

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
    summary = context.read("system_summary")
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.markdown(f"### System {badge(summary.status)}")
    if not summary.engine.online:
        left.warning("Engine offline: commands stay queued until it returns.",
                     icon=":material/cloud_off:")
    cols = right.columns(4)
    for col, (action, (label, icon, tip)) in zip(cols, ACTIONS.items(), strict=True):
        col.button(label, key=f"overview_{action}", icon=icon, help=tip,
                   disabled=action not in summary.allowed or not context.can_control(),
                   on_click=context.act, args=(f"System {action}", control.system_action,
                                               action),
                   width="stretch")
    context.show_last_error()

    health = context.read("health")
    running_agents = summary.agents.get("running", 0)
    active_sessions = summary.sessions.get("running", 0)
    a, b, c, d = st.columns(4)
    a.metric("Active agents", f"{running_agents} / {sum(summary.agents.values())}",
             help="Agents running out of all registered agents")
    b.metric("Active sessions", active_sessions,
             help=f"Running sessions; {summary.sessions.get('paused', 0)} paused")
    c.metric("Trades (last hour)", summary.fills_last_hour,
             help=f"Fills in the last hour; {summary.pending_orders} orders pending")
    d.metric("System health", f"{health.score:.0f}%", help=HEALTH_FORMULA)


@st.fragment(run_every=context.refresh_every())
def health_details() -> None:
    health = context.read("health")
    with st.expander("Health details", icon=":material/monitor_heart:"):
        st.caption(HEALTH_FORMULA)
        a, b, c, d = st.columns(4)
        a.metric("Heartbeat age", "—" if health.heartbeat_age_s is None
                 else f"{health.heartbeat_age_s:.1f} s")
        b.metric("Errors (last hour)", health.errors_last_hour)
        c.metric("Engine CPU", f"{health.engine_cpu_pct:.0f}%")
        d.metric("Engine memory", f"{health.engine_rss_mb:.0f} MB")
        agents = context.read("agents")
        if len(agents):
            ticks = pd.DataFrame({
                "agent": agents["id"], "status": agents["status"],
                "last tick ms": agents["last_tick_ms"],
                "tick p95 ms": [s.get("tick_p95_ms") for s in agents["summary"]],
            })
            st.dataframe(ticks, hide_index=True, width="stretch")
        if health.data:
            st.caption("Data freshness: the newest bar of each dataset")
            st.dataframe(pd.DataFrame(health.data), hide_index=True, width="stretch",
                         column_config=TIME)


def _styled(feed: pd.DataFrame):
    feed = feed.assign(severity=feed["severity"].map(SEVERITY_ICON))
    colours = {v: SEVERITY_HEX[k] for k, v in SEVERITY_ICON.items()}
    return feed.style.map(lambda v: f"color: {colours.get(v, 'inherit')}; font-weight: 600",
                          subset=["severity"])


@st.fragment(run_every=context.refresh_every())
def alerts() -> None:
    recent = context.read("events", limit=5, severity=("warning", "error"))
    st.subheader("Alerts")
    if recent.empty:
        st.success("No warnings or errors.", icon=":material/check_circle:")
    else:
        st.dataframe(_styled(recent[["ts", "severity", "source", "message"]]),
                     hide_index=True, width="stretch", column_config=TIME)


def activity_feed() -> None:
    st.subheader("Activity feed")
    a, b, c = st.columns([2, 1, 2])
    severity = a.multiselect("Severity", SEVERITIES, default=list(SEVERITIES),
                             format_func=SEVERITY_ICON.get, key="feed_severity")
    sources = ["all", *context.read("event_sources")]
    source = b.selectbox("Source", sources, key="feed_source")
    text = c.text_input("Search", key="feed_text", placeholder="text in the message")

    @st.fragment(run_every=context.refresh_every())
    def table() -> None:
        feed = context.read("events", limit=200, severity=tuple(severity) or None,
                            source=None if source == "all" else source, text=text or None)
        if feed.empty:
            st.info("No events match.", icon=":material/info:")
            return
        st.dataframe(_styled(feed[["ts", "severity", "source", "kind", "message"]]),
                     hide_index=True, width="stretch", height=420,
                     column_config=TIME)

    table()


control_panel()
health_details()
alerts()
activity_feed()
