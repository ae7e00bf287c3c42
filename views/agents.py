"""Agents: the pipeline as a flow diagram, and the selected agent's card."""

import contextlib
import time

import streamlit as st

from engine.control import actions as control
from engine.control.database import unavailable_errors
from engine.errors import NotFound
from engine.reads import queries, status, summary
from engine.reads.records import AgentCard
from engine.reads.strategies import param_text, strategy_list
from engine.registry.agents import SPECS
from ui import confirm, context, flow
from ui.format import literal
from ui.theme import TIME_FORMAT, badge

st.title("Agents")
st.caption("Market data → sentiment → strategy → execution, and the sessions execution "
           "serves; each arrow says what passed along it in the last minute. Click a node to "
           "open its card; drag nodes to arrange them.")


@st.fragment(run_every=context.refresh_every())
def diagram() -> None:
    """The diagram, live, with what flows along each edge; a click selects the agent whose card
    is drawn below. Narrow screens get the pipeline as a list instead (ui/styles.py)."""
    agents = context.read(queries.agents)
    if agents.empty:
        return  # the page says why, once, below
    sessions = context.read(queries.sessions)
    rates = flow.throughput(context.read(status.flow_counts),
                            st.session_state.setdefault("flow_samples", []), time.time())
    state = flow.build_state(agents, sessions, context.read(queries.node_positions),
                             st.session_state.get("flow_state"), rates,
                             dark=st.context.theme.type == "dark")
    with st.container(key="flow_list"):
        for line in flow.compact(agents, sessions, rates):
            st.markdown(line)
    with st.container(key="flow_diagram"):
        new_state = flow.render("agent_flow", state)
    st.session_state["flow_state"] = new_state
    moved = flow.positions(new_state)
    if moved != flow.positions(state) and context.can_control():
        with contextlib.suppress(*unavailable_errors()):  # a drag in an outage is not kept
            control.save_node_positions(context.db(), moved)
            st.cache_data.clear()
    clicked = new_state.selected_id
    if clicked in set(agents["id"]) and clicked != st.session_state.get("agent_selected"):
        st.session_state["agent_selected"] = clicked
        st.rerun()  # a whole-page run: the card below belongs to the page, not this fragment


def config_editor(agent: AgentCard) -> None:
    schema = SPECS[agent.kind].config
    current = {name: agent.config.get(name, p.default) for name, p in schema.items()}
    with st.form(f"config_{agent.id}"):
        st.markdown("**Configuration**")
        values = {}
        for name, p in schema.items():
            if p.choices:
                values[name] = st.selectbox(name, p.choices, help=p.help,
                                            index=p.choices.index(current[name]))
            elif p.kind is bool:
                values[name] = st.checkbox(name, value=bool(current[name]), help=p.help)
            else:
                values[name] = st.text_input(name, value=str(current[name]), help=p.help)
        submitted = st.form_submit_button("Apply config", disabled=not context.can_control(),
                                          help="Validate and send the changed values")
    if submitted:
        changes = {k: v for k, v in values.items() if str(v) != str(current[k])}
        if not changes:
            st.info("Nothing changed.")
            return
        context.act(f"Config {agent.id}", control.update_agent_config, agent.id, changes)
        context.show_last_error()


@st.fragment(run_every=context.refresh_every())
def card_status(agent_id: str) -> None:
    try:
        agent = context.read(status.agent, agent_id)
    except NotFound:
        st.warning(f"Agent {agent_id} is no longer registered.")
        return
    state = flow.condition(agent)
    st.markdown(f"### {agent.name} {badge(state)}")
    why = flow.problem(agent)
    if state == "error":
        retry = agent.retry_at
        when = f" — next retry at {retry:%H:%M:%S} UTC" if retry is not None else ""
        st.error(f"{literal(why)}{when}", icon=":material/error:")
    elif why:
        st.warning(f"Degraded — running, but {literal(why)}", icon=":material/warning:")
    a, b, c, d, e = st.container(key="pair_agent").columns(5)
    a.metric("Ticks", agent.ticks)
    b.metric("Items processed", agent.items_processed)
    c.metric("Errors", agent.errors)
    d.metric("Last tick", f"{agent.last_tick_ms:.1f} ms")
    e.metric("Tick p95", "—" if agent.summary.get("tick_p95_ms") is None
             else f"{agent.summary['tick_p95_ms']:.1f} ms")
    active = agent.last_active_at
    when = f" · last active {active:%Y-%m-%d %H:%M:%S} UTC" if active is not None else ""
    st.caption(f"{SPECS[agent.kind].description} · {flow.key_figure(agent)}{when}")
    left, mid, right, _ = st.container(key="pair_agent_buttons").columns([1, 1, 1.4, 3])
    left.button("Start", key="agent_start", icon=":material/play_arrow:",
                help=f"Start the {agent.name} agent",
                disabled="start" not in agent.allowed or not context.can_control(),
                on_click=context.act, args=(f"Start {agent_id}", control.agent_action,
                                            agent_id, "start"))
    if mid.button("Stop", key="agent_stop", icon=":material/stop:",
                  help=f"Stop the {agent.name} agent (asks first; its work pauses and "
                  "orders wait as pending)",
                  disabled="stop" not in agent.allowed or not context.can_control()):
        confirm.ask(confirm.agent_stop(agent))
    right.button("Reset metrics", key="agent_reset", icon=":material/restart_alt:",
                 help="Set ticks, items and errors back to zero",
                 disabled=not context.can_control(),
                 on_click=context.act, args=(f"Reset {agent_id}", control.reset_agent_metrics,
                                             agent_id))
    context.show_last_error()


@st.fragment(run_every=context.refresh_every())
def sentiment_scores() -> None:
    """What the sentiment agent published last, per symbol, with the headlines behind it."""
    scores = context.read(queries.sentiment_latest)
    if scores.empty:
        st.caption("No scores yet.")
        return
    st.markdown("**Latest scores**")
    view = scores.assign(headlines=scores["headlines"].apply(
        lambda items: " · ".join(f"{h['score']:+.2f} {h['text']}" for h in items or [])))
    st.dataframe(view[["symbol", "score", "label", "source", "items", "headlines", "ts"]],
                 hide_index=True, width="stretch",
                 column_config={"ts": st.column_config.DatetimeColumn(
                     "time (UTC)", format=TIME_FORMAT)})


def strategy_files() -> None:
    """The strategies sessions may name, and the operator's files that did not load."""
    found = strategy_list()
    st.markdown("**Strategies**")
    for problem in found.problems:
        st.error(f"Not loaded: {literal(problem)}", icon=":material/error:")
    st.dataframe(
        {"strategy": [s.name for s in found.strategies],
         "title": [s.title for s in found.strategies],
         "file": [s.file for s in found.strategies],
         "sha256": [(s.sha256 or "")[:12] for s in found.strategies],
         "parameters": [", ".join(param_text(p) for p in s.params) for s in found.strategies]},
        hide_index=True, width="stretch")
    st.caption(f"Your own: Python files in {literal(found.folder)}; the engine loads them when "
               "it starts and on `python -m engine strategies reload`.")


@st.fragment(run_every=context.refresh_every())
def latest_logs(agent_id: str) -> None:
    st.markdown("**Latest log lines**")
    try:
        lines = context.read(summary.log_tail, context.settings().logs_dir, agent_id, 15).lines
    except NotFound:
        st.caption("No log lines yet.")
        return
    st.code("\n".join(lines) or "(empty)", language=None)


@st.fragment(run_every=context.refresh_every())
def until_registered() -> None:
    """Before the engine has registered its agents (its lease can come first): say so, and
    run the whole page again once they are there — the cards and pills belong to the page,
    not to a fragment, and would otherwise wait for a click."""
    if not context.read(queries.agents).empty:
        st.rerun(scope="app")
    st.info("No agents registered yet — the engine registers them on its first start. "
            "Start it with `python -m engine run` (or let this app autostart it); the diagram "
            "fills in by itself.", icon=":material/hourglass_empty:")


registered = context.read(queries.agents)
if registered.empty:
    until_registered()
diagram()
agent_ids = [] if registered.empty else list(registered["id"])
if agent_ids:  # on a phone, instead of clicking a node (outside the fragment: a full run)
    with st.container(key="flow_list_pick"):
        names = dict(zip(registered["id"], registered["name"], strict=True))
        picked = st.pills("Open the card of", agent_ids, format_func=names.get,
                          key="flow_pick")
    # Read, not an on_change callback: a live refresh's fragment run can take the change
    # (and the callback with it) before the pick's own full run.
    if picked != st.session_state.get("flow_pick_seen"):
        st.session_state["flow_pick_seen"] = picked
        if picked:
            st.session_state["agent_selected"] = picked
linked = st.query_params.get("agent")  # a deep link: ?agent=strategy opens its card
if linked in agent_ids and st.session_state.get("agent_linked") != linked:
    st.session_state["agent_linked"] = st.session_state["agent_selected"] = linked
selected = st.session_state.get("agent_selected")
selected = selected if selected in agent_ids else (agent_ids[0] if agent_ids else None)
if selected:
    with st.container(border=True):
        card_status(selected)
        left, right = st.columns([1, 1])
        with left:
            config_editor(context.read(status.agent, selected))
        with right:
            latest_logs(selected)
        if selected == "sentiment":
            sentiment_scores()
        if selected == "strategy":
            strategy_files()
