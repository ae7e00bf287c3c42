"""PaperDesk dashboard: navigation, engine status and the master switch in the sidebar."""

import os

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from engine.control import actions as control
from engine.control.database import unavailable_errors
from engine.core.lifecycle import allowed_actions
from engine.errors import ConfigError
from engine.reads import queries
from engine.reads.summary import system_summary
from ui import access, confirm, context, flow, outage, styles
from ui.format import literal
from ui.launcher import ensure_engine
from ui.theme import STATUS_COLOR, badge

st.set_page_config(page_title="PaperDesk", page_icon=":material/monitoring:", layout="wide")

try:  # secrets fill in what the environment leaves out (the autostarted engine inherits them)
    for name in ("DATABASE_URL", "PAPERDESK_NOTIFY_URLS"):
        value = st.secrets.get(name)
        if name not in os.environ and value:
            os.environ[name] = " ".join(value) if isinstance(value, list) else str(value)
except FileNotFoundError:
    pass  # no secrets.toml: the environment alone configures PaperDesk

try:
    settings = context.settings()
    context.db()  # creates or upgrades the schema before anything reads it
    who = access.resolve()
except ConfigError as exc:
    st.error(f"Configuration error: {exc}")
    st.stop()
except unavailable_errors():  # the banner retries and reruns the app once it answers
    outage.OUTAGE.begin()
    outage.banner(settings.database_url, context.refresh_every())
    st.stop()
except SQLAlchemyError as exc:
    st.error(f"Cannot open the database ({settings.database_url.split('://')[0]}): "
             f"{type(exc).__name__}. Check DATABASE_URL and that the server is reachable.")
    st.stop()

pages = st.navigation([
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/agents.py", title="Agents", icon=":material/hub:"),
    st.Page("views/sessions.py", title="Sessions", icon=":material/candlestick_chart:"),
    st.Page("views/logs.py", title="Logs", icon=":material/article:"),
])
context.follow_open_session()
outage.banner(settings.database_url, context.refresh_every())

ACTION_HELP = {
    "start": "Start every agent and resume the sessions the system had paused",
    "stop": "Stop every agent and halt all trading within one tick (sessions pause)",
    "pause": "Pause every running session (agents keep running, positions stay marked)",
    "resume": "Resume the sessions the system paused",
}


@st.fragment(run_every=context.refresh_every())
def sidebar_status() -> None:
    engine_status = ensure_engine(settings)  # also restarts an autostarted engine that died
    summary = context.read(system_summary)
    engine = summary.engine
    st.session_state[context.ENGINE_STARTING] = engine_status.starting and not engine.online
    if st.session_state[context.ENGINE_STARTING]:
        context.starting_notice("The dashboard started it; the controls appear once it runs.")
        return
    if engine.online:
        st.markdown(f"Engine {badge('online')} heartbeat {engine.age_s:.1f}s ago")
    else:
        age = f"last heartbeat {engine.age_s:.0f}s ago" if engine.age_s is not None else "never"
        st.markdown(f"Engine {badge('offline')} ({age})")
        st.caption("Commands stay queued until the engine returns.")
    st.caption(f"{engine_status.mode}: {engine_status.message}")
    st.markdown(f"System {badge(summary.status)}")
    agent_conditions()
    allowed = set(allowed_actions("system", summary.status))
    top, bottom = st.columns(2), st.columns(2)
    for col, action in zip([*top, *bottom], ("start", "stop", "pause", "resume"), strict=True):
        disabled = action not in allowed or not context.can_control()
        if action == "stop":
            if col.button("Stop", key="side_stop", help=ACTION_HELP["stop"], disabled=disabled,
                          width="stretch"):
                confirm.ask(confirm.system_stop())
            continue
        col.button(action.title(), key=f"side_{action}", help=ACTION_HELP[action],
                   disabled=disabled,
                   on_click=context.act, args=(f"System {action}", control.system_action,
                                               action),
                   width="stretch")


def agent_conditions() -> None:
    """Each agent's real condition: degraded (amber) and error (red) named with their error."""
    agents = context.read(queries.agents)
    if agents.empty:
        st.caption("No agents registered yet.")
        return
    counts = agents["condition"].value_counts()
    st.markdown("Agents " + " ".join(badge(state, f"{n} {state}")
                                     for state, n in counts.items()))
    for agent in flow.cards(agents):
        why = flow.problem(agent)
        if why:
            st.caption(f":{STATUS_COLOR[agent.condition]}[**{agent.name}** "
                       f"{agent.condition}] — {literal(why[:160])}")


styles.draw()
with st.sidebar:
    sidebar_status()
    st.divider()
    st.selectbox("Live refresh", [0, 1, 2, 5, 10], index=2, key="refresh_s",
                 format_func=lambda s: "off" if s == 0 else f"every {s} s",
                 help="How often status, tables and logs refresh themselves")
    st.caption(f"Signed in as {literal(who.user)} · {who.note}")
    if who.mode == "oidc":
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")

confirm.show_pending()
pages.run()
