"""The agent flow diagram: our one wrapper around streamlit-flow (upstream is unmaintained).

The state lives in st.session_state and is passed back every run. The frontend replaces its
nodes (and reports selectedId = null) whenever it gets a newer timestamp, so the timestamp
moves at once only when a status colour, a node or an edge changes, and for text-only
changes (figures) at most every TEXT_REFRESH_MS: drags and clicks survive live refresh.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from streamlit_flow import streamlit_flow
from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.layouts import ManualLayout
from streamlit_flow.state import StreamlitFlowState

from engine.agent_specs import SPECS
from ui.theme import STATUS_HEX

MAX_SESSION_NODES = 8
ACTIVE_WITHIN_S = 5.0
TEXT_REFRESH_MS = 10_000
DEFAULT_POSITIONS = {"market_data": (0, 120), "sentiment": (260, 0), "strategy": (520, 120),
                     "execution": (780, 120)}


@dataclass(frozen=True)
class NodeSpec:
    id: str
    content: str
    colour: str
    kind: str  # "agent" or "session"


def _active(ts) -> bool:
    return (ts is not None and not pd.isna(ts)
            and (datetime.now(UTC) - ts.to_pydatetime()).total_seconds() <= ACTIVE_WITHIN_S)


def key_figure(agent: dict) -> str:
    """The one figure that says what an agent is doing."""
    s = agent.get("summary") or {}
    kind = agent["kind"]
    if kind == "market_data":
        newest = (s.get("last_bar") or "none")[:10]
        return f"{s.get('source', 'replay')} · {s.get('datasets', 0)} datasets · newest {newest}"
    if kind == "sentiment":
        scores = s.get("scores") or {}
        if not scores:
            return "no score yet"
        symbol, score = next(iter(sorted(scores.items())))
        return f"{symbol} {score['score']:+.2f} {score['label']} ({score['source']})"
    if kind == "strategy":
        return (f"{s.get('sessions_served', 0)} sessions · "
                f"{s.get('orders_decided', 0)} orders decided")
    if kind == "execution":
        return (f"{s.get('orders_filled', 0)} filled · "
                f"{s.get('fast_forwarding', 0)} fast-forwarding")
    return ""


def condition(agent: dict) -> str:
    """What the agent really is: `degraded` when it runs but its recent ticks fail."""
    return agent.get("condition") or agent["status"]


def problem(agent: dict) -> str | None:
    """One line on why a degraded or failed agent is not healthy, or None."""
    state = condition(agent)
    if state not in ("degraded", "error"):
        return None
    streak = agent.get("consecutive_errors") or 0
    failing = f"{streak} failing ticks in a row" if streak else "failed"
    error = agent.get("last_error")
    return f"{failing}: {error}" if error else failing


def agent_node(agent: dict) -> NodeSpec:
    state = condition(agent)
    line = f"● {state}"
    if state == "running":
        line += " · active" if _active(agent["last_active_at"]) else " · idle"
    why = problem(agent)
    detail = f"{why[:90]}…" if why and len(why) > 90 else (why or key_figure(agent))
    content = f"**{agent['name']}** `{agent['kind']}`\n\n{line}\n\n{detail}"
    return NodeSpec(agent["id"], content, STATUS_HEX.get(state, "#6b7280"), "agent")


def session_nodes(sessions: pd.DataFrame) -> list[NodeSpec]:
    running = sessions[sessions["status"].isin(["running", "paused"])]
    nodes = [
        NodeSpec(f"session-{row.id}",
                 f"**{row.name}** `{row.strategy}`\n\n● {row.status} · {row.symbols}\n\n"
                 f"P&L {row.return_pct:+.2f}% · {row.trade_count} trades",
                 STATUS_HEX.get(row.status, "#6b7280"), "session")
        for row in running.head(MAX_SESSION_NODES).itertuples()
    ]
    extra = len(running) - MAX_SESSION_NODES
    if extra > 0:
        nodes.append(NodeSpec("session-more", f"+{extra} more running sessions", "#6b7280",
                              "session"))
    return nodes


def edges_for(agents: pd.DataFrame, sessions: list[NodeSpec]) -> list[tuple[str, str, bool]]:
    """(source, target, animated) for each input of each agent and each session node."""
    by_id = {a["id"]: a for a in agents.to_dict("records")}

    def flowing(agent_id: str) -> bool:
        a = by_id.get(agent_id)
        return bool(a and condition(a) == "running" and _active(a["last_active_at"]))

    out = []
    for agent in by_id.values():
        spec = SPECS.get(agent["kind"])
        for source in spec.inputs if spec else ():
            if source in by_id:
                out.append((source, agent["id"], flowing(source) and flowing(agent["id"])))
    out += [("execution", node.id, flowing("execution")) for node in sessions]
    return out


def _node(spec: NodeSpec, pos: tuple[float, float]) -> StreamlitFlowNode:
    return StreamlitFlowNode(
        spec.id, pos, {"content": spec.content},
        node_type="default" if spec.kind == "agent" else "output",
        source_position="right", target_position="left", selectable=True, draggable=True,
        style={"border": f"3px solid {spec.colour}", "borderRadius": "8px", "width": 220,
               "fontSize": "12px", "textAlign": "left"},
    )


def default_position(spec: NodeSpec, index: int) -> tuple[float, float]:
    if spec.id in DEFAULT_POSITIONS:
        return DEFAULT_POSITIONS[spec.id]
    return (1060, index * 130)


def build_state(agents: pd.DataFrame, sessions: pd.DataFrame,
                saved: dict[str, tuple[float, float]],
                previous: StreamlitFlowState | None) -> StreamlitFlowState:
    """The diagram's state for this run, reusing `previous` (and its positions) when possible."""
    specs = [agent_node(a) for a in agents.to_dict("records")] + session_nodes(sessions)
    session_specs = [s for s in specs if s.kind == "session"]
    current = {n.id: n for n in previous.nodes} if previous else {}
    nodes = []
    for index, spec in enumerate(specs):
        known = current.get(spec.id)
        pos = (known.position["x"], known.position["y"]) if known else saved.get(
            spec.id, default_position(spec, index - len(specs) + len(session_specs)))
        nodes.append(_node(spec, pos))
    edges = [StreamlitFlowEdge(f"{s}->{t}", s, t, animated=animated, marker_end={"type": "arrow"})
             for s, t, animated in edges_for(agents, session_specs)]
    now_ms = int(time.time() * 1000)
    if previous and _shape(previous.nodes, previous.edges) == _shape(nodes, edges):
        same_text = _text(previous.nodes) == _text(nodes)
        if same_text or now_ms - previous.timestamp < TEXT_REFRESH_MS:
            return previous
    return StreamlitFlowState(nodes, edges, selected_id=previous.selected_id if previous
                              else None, timestamp=now_ms)


def _shape(nodes, edges) -> tuple:
    """What must show at once: which nodes, their status colours, the edges and their flow."""
    return ([(n.id, n.style.get("border")) for n in nodes],
            [(e.id, e.animated) for e in edges])


def _text(nodes) -> list:
    return [n.data.get("content") for n in nodes]


def positions(state: StreamlitFlowState) -> dict[str, tuple[float, float]]:
    return {n.id: (round(n.position["x"], 1), round(n.position["y"], 1)) for n in state.nodes}


def render(key: str, state: StreamlitFlowState) -> StreamlitFlowState:
    """Draw the diagram; returns the state the user left it in (drags, selection)."""
    return streamlit_flow(key, state, height=460, fit_view=True, layout=ManualLayout(),
                          get_node_on_click=True, hide_watermark=True, min_zoom=0.3,
                          show_minimap=False)
