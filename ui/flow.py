"""The agent flow diagram: our one wrapper around streamlit-flow (upstream is unmaintained).

The state lives in st.session_state and is passed back every run. The frontend replaces its
nodes, and reports them with selectedId = null and a new timestamp, whenever it gets a state
whose timestamp is not older than its last event's. So a state sent back carries the timestamp
of the frontend's last report: it applies only if nothing happened since (a click in flight
wins), and a state meant to change nothing carries one less and is ignored (applying it would
report again and rerun again, a storm of reruns per click). It changes at once when a status
colour, the theme, a node or an edge changes, and for text-only changes (figures, throughput
labels) at most every TEXT_REFRESH_MS: drags and clicks survive live refresh.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from streamlit_flow import streamlit_flow
from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.layouts import ManualLayout
from streamlit_flow.state import StreamlitFlowState

from engine.reads.colours import GREY
from engine.reads.records import AgentCard
from engine.reads.status import FLOW_WINDOW_S, FlowCounts
from engine.registry.agents import SPECS, pipeline_layout
from ui.format import literal
from ui.theme import STATUS_HEX, badge

MAX_SESSION_NODES = 8
ACTIVE_WITHIN_S = 5.0
TEXT_REFRESH_MS = 10_000
NEWS_UNUSED = "not used by any session"  # the sentiment → strategy edge with no `news` session
# Sized so that at a 1440 px wide window the default layout fits the frame at a zoom of at
# least MIN_ZOOM, and no zoom shows text below READABLE_PX: FONT_PX × MIN_ZOOM.
FONT_PX = 15  # every text of the diagram (nodes and edge labels), before zooming
READABLE_PX = 12  # the smallest text the diagram ever shows on screen
MIN_ZOOM = READABLE_PX / FONT_PX
NODE_WIDTH = 190
STEP_X = 300  # px between pipeline stages: room for an edge's throughput label
STEP_Y = 200  # px between the lanes of the pipeline: room for the label of an edge between
SESSION_COLUMNS = 4  # session nodes: rows under the pipeline, right (execution) to left
SESSION_TOP = STEP_Y + 240  # the first row of sessions: room for the fills labels above it
SESSION_ROW = 150  # px between rows of sessions
FRAME_PX = 600  # the diagram's height with one row of sessions (or none): room for tall nodes
DEFAULT_POSITIONS = {kind: (stage * STEP_X, STEP_Y * (1 - lane))
                     for kind, (stage, lane) in pipeline_layout().items()}
SERVES_SESSIONS = "execution"  # the agent whose edges go down to the session nodes
MIN_SPAN_S = 3.0  # a bar rate needs samples at least this far apart


@dataclass(frozen=True)
class Palette:
    card: str  # a node's background under its status tint
    text: str
    edge: str
    label_bg: str


LIGHT = Palette(card="#ffffff", text="#0f172a", edge="#475569", label_bg="#ffffff")
DARK = Palette(card="#1e293b", text="#e2e8f0", edge="#94a3b8", label_bg="#0b1220")


@dataclass(frozen=True)
class Throughput:
    """What flows along the edges, per minute of wall time. Orders and fills count the rows
    the engine stamped in the last minute (engine.reads.status.flow_counts); bars are the bar
    times the sessions traded, and scores the bar times `news` sessions traded (each reads
    its symbols' stored headline scores), from the growth of their stored counters between
    the samples this tab took (None until two samples are MIN_SPAN_S apart)."""

    bars: float | None = None
    scores: float | None = None
    orders: int = 0
    fills: dict[int, int] = field(default_factory=dict)
    news_used: bool = False  # a running or paused session reads stored news


def throughput(counts: FlowCounts, samples: list[tuple[float, int, int]],
               now: float) -> Throughput:
    """Add this run's sample of the bar counters to `samples` (kept for FLOW_WINDOW_S) and
    return the rates."""
    if samples and (counts.bars_done < samples[-1][1] or counts.news_bars < samples[-1][2]):
        samples.clear()  # sessions were deleted: the counters restart lower
    samples.append((now, counts.bars_done, counts.news_bars))
    samples[:] = [sample for sample in samples if now - sample[0] <= FLOW_WINDOW_S]
    first_t, first_bars, first_news = samples[0]
    span = now - first_t
    if span < MIN_SPAN_S:
        return Throughput(None, None, counts.orders, counts.fills, counts.news_sessions > 0)
    return Throughput((counts.bars_done - first_bars) * 60 / span,
                      (counts.news_bars - first_news) * 60 / span, counts.orders, counts.fills,
                      counts.news_sessions > 0)


def _per_min(value: float | None, unit: str) -> str:
    if value is None:
        return f"… {unit}/min"
    return f"{value:,.0f} {unit}/min" if value >= 10 or value == int(value) else \
        f"{value:.1f} {unit}/min"


@dataclass(frozen=True)
class NodeSpec:
    id: str
    content: str
    colour: str
    kind: str  # "agent" or "session"


def _active(ts) -> bool:
    return (ts is not None and not pd.isna(ts)
            and (datetime.now(UTC) - ts.to_pydatetime()).total_seconds() <= ACTIVE_WITHIN_S)


def cards(agents: pd.DataFrame) -> list[AgentCard]:
    """The agents of a queries.agents frame as cards (missing times as None)."""
    rows = agents.astype(object).where(agents.notna(), None).to_dict("records")
    return [AgentCard(**row) for row in rows]


def key_figure(agent: AgentCard) -> str:
    """The one figure that says what an agent is doing (its kind's, from the registry)."""
    spec = SPECS.get(agent.kind)
    return spec.figure(agent.summary or {}) if spec else ""


def condition(agent: AgentCard) -> str:
    """What the agent really is: `degraded` when it runs but its recent ticks fail."""
    return agent.condition or agent.status


def problem(agent: AgentCard) -> str | None:
    """One line on why a degraded or failed agent is not healthy, or None."""
    state = condition(agent)
    if state not in ("degraded", "error"):
        return None
    streak = agent.consecutive_errors or 0
    failing = f"{streak} failing ticks in a row" if streak else "failed"
    error = agent.last_error
    return f"{failing}: {error}" if error else failing


def agent_node(agent: AgentCard) -> NodeSpec:
    state = condition(agent)
    line = f"● {state}"
    if state == "running":
        line += " · active" if _active(agent.last_active_at) else " · idle"
    why = problem(agent)
    detail = f"{why[:90]}…" if why and len(why) > 90 else (why or key_figure(agent))
    content = f"**{agent.name}** `{agent.kind}`\n\n{line}\n\n{literal(detail)}"
    return NodeSpec(agent.id, content, STATUS_HEX.get(state, GREY), "agent")


def session_line(row) -> str:
    """A session's word (queries.sessions' `condition`), why it waits, and its symbols."""
    why = f" — {literal(row.why)}" if row.why else ""
    return f"● {row.condition}{why} · {literal(row.symbols)}"


def session_nodes(sessions: pd.DataFrame) -> list[NodeSpec]:
    running = sessions[sessions["status"].isin(["running", "paused"])]
    nodes = [
        NodeSpec(f"session-{row.id}",
                 f"**{literal(row.name)}** `{row.strategy}`\n\n{session_line(row)}\n\n"
                 f"P&L {row.return_pct:+.2f}% · {row.trade_count} trades",
                 STATUS_HEX.get(row.condition, GREY), "session")
        for row in running.head(MAX_SESSION_NODES).itertuples()
    ]
    extra = len(running) - MAX_SESSION_NODES
    if extra > 0:
        nodes.append(NodeSpec("session-more", f"+{extra} more running sessions", GREY,
                              "session"))
    return nodes


def edges_for(agents: pd.DataFrame, sessions: list[NodeSpec]) -> list[tuple[str, str, bool]]:
    """(source, target, animated) for each input of each agent and each session node."""
    by_id = {a.id: a for a in cards(agents)}

    def flowing(agent_id: str) -> bool:
        a = by_id.get(agent_id)
        return bool(a and condition(a) == "running" and _active(a.last_active_at))

    out = []
    for agent in by_id.values():
        spec = SPECS.get(agent.kind)
        for source in spec.inputs if spec else ():
            if source in by_id:
                out.append((source, agent.id, flowing(source) and flowing(agent.id)))
    out += [(SERVES_SESSIONS, node.id, flowing(SERVES_SESSIONS)) for node in sessions]
    return out


def edge_label(source: str, target: str, rates: Throughput) -> str:
    """The throughput an edge carries, or "" where no stored figure measures it."""
    if target.startswith("session-"):
        if target == "session-more":
            return ""
        return _per_min(rates.fills.get(int(target.removeprefix("session-")), 0), "fills")
    spec = SPECS.get(target)
    unit = spec.counts.get(source) if spec else None
    if unit == "scores" and not rates.news_used:
        return NEWS_UNUSED
    rate = {"bars": rates.bars, "scores": rates.scores, "orders": rates.orders}.get(unit)
    return _per_min(rate, unit) if unit else ""


def _node(spec: NodeSpec, pos: tuple[float, float], palette: Palette) -> StreamlitFlowNode:
    tint = f"linear-gradient({spec.colour}2e, {spec.colour}2e)"  # the status colour at 18 %
    return StreamlitFlowNode(
        spec.id, pos, {"content": spec.content},
        node_type="default" if spec.kind == "agent" else "output",
        source_position="bottom" if spec.id == SERVES_SESSIONS else "right",
        target_position="left" if spec.kind == "agent" else "top", selectable=True,
        draggable=True,
        style={"border": f"3px solid {spec.colour}", "borderRadius": "8px", "width": NODE_WIDTH,
               "fontSize": f"{FONT_PX}px", "textAlign": "left", "color": palette.text,
               "backgroundColor": palette.card, "backgroundImage": tint},
    )


def _edge(source: str, target: str, animated: bool, label: str,
          palette: Palette) -> StreamlitFlowEdge:
    return StreamlitFlowEdge(
        f"{source}->{target}", source, target, animated=animated, label=label,
        marker_end={"type": "arrowclosed", "width": 18, "height": 18, "color": palette.edge},
        style={"stroke": palette.edge, "strokeWidth": 2},
        label_show_bg=True, label_style={"fill": palette.text, "fontWeight": 600,
                                         "fontSize": FONT_PX},
        label_bg_style={"fill": palette.label_bg, "fillOpacity": 0.9})


def default_position(spec: NodeSpec, index: int) -> tuple[float, float]:
    """An agent's place in the pipeline; the `index`th session's in the rows under it, the
    first under the execution agent."""
    if spec.id in DEFAULT_POSITIONS:
        return DEFAULT_POSITIONS[spec.id]
    row, column = divmod(index, SESSION_COLUMNS)
    return (DEFAULT_POSITIONS[SERVES_SESSIONS][0] - column * STEP_X,
            SESSION_TOP + row * SESSION_ROW)


def frame_height(state: StreamlitFlowState) -> int:
    """The diagram's height in pixels: FRAME_PX, and a row more for each row of session nodes
    past the first (so the default layout still fits at MIN_ZOOM or more)."""
    sessions = sum(n.id.startswith("session-") for n in state.nodes)
    extra_rows = max(0, (sessions - 1) // SESSION_COLUMNS)
    return FRAME_PX + round(extra_rows * SESSION_ROW * MIN_ZOOM)


def build_state(agents: pd.DataFrame, sessions: pd.DataFrame,
                saved: dict[str, tuple[float, float]], previous: StreamlitFlowState | None,
                rates: Throughput | None = None, dark: bool = False) -> StreamlitFlowState:
    """The diagram's state for this run, reusing `previous` (and its positions) when possible."""
    palette, rates = DARK if dark else LIGHT, rates or Throughput()
    specs = [agent_node(a) for a in cards(agents)] + session_nodes(sessions)
    session_specs = [s for s in specs if s.kind == "session"]
    current = {n.id: n for n in previous.nodes} if previous else {}
    nodes = []
    for index, spec in enumerate(specs):
        known = current.get(spec.id)
        pos = (known.position["x"], known.position["y"]) if known else saved.get(
            spec.id, default_position(spec, index - len(specs) + len(session_specs)))
        nodes.append(_node(spec, pos, palette))
    edges = [_edge(s, t, animated, edge_label(s, t, rates), palette)
             for s, t, animated in edges_for(agents, session_specs)]
    if previous is None:
        return StreamlitFlowState(nodes, edges, timestamp=int(time.time() * 1000))
    if _shape(previous.nodes, previous.edges) == _shape(nodes, edges):
        same_text = _text(previous.nodes, previous.edges) == _text(nodes, edges)
        if same_text or int(time.time() * 1000) - previous.timestamp < TEXT_REFRESH_MS:
            return StreamlitFlowState(previous.nodes, previous.edges, previous.selected_id,
                                      timestamp=previous.timestamp - 1)  # ignored: kept as is
    return StreamlitFlowState(nodes, edges, selected_id=previous.selected_id,
                              timestamp=previous.timestamp)


def _shape(nodes, edges) -> tuple:
    """What must show at once: which nodes, their status and theme colours, the edges, their
    flow and whether their throughput is measured yet."""
    return ([(n.id, n.style.get("border"), n.style.get("backgroundColor")) for n in nodes],
            [(e.id, e.animated, e.label.startswith("…")) for e in edges])


def _text(nodes, edges) -> list:
    return [n.data.get("content") for n in nodes] + [e.label for e in edges]


def compact(agents: pd.DataFrame, sessions: pd.DataFrame, rates: Throughput) -> list[str]:
    """The pipeline for narrow screens, one markdown line per agent: its status in words and
    colour, its key figure, and what it passes on per minute."""
    names = dict(zip(agents["id"], agents["name"], strict=True))
    outgoing: dict[str, list[str]] = {}
    for source, target, _ in edges_for(agents, []):
        if edge_label(source, target, rates):
            outgoing.setdefault(source, []).append(
                f"{edge_label(source, target, rates)} → {names[target]}")
    live = int(sessions["status"].isin(["running", "paused"]).sum()) if len(sessions) else 0
    if live:
        outgoing.setdefault(SERVES_SESSIONS, []).append(
            f"{_per_min(sum(rates.fills.values()), 'fills')} → {live} sessions")
    lines = []
    for agent in cards(agents):
        flows = " · ".join(outgoing.get(agent.id, []))
        detail = literal(problem(agent) or key_figure(agent))
        lines.append(f"**{agent.name}** {badge(condition(agent))} {detail}"
                     + (f"  \n↓ {flows}" if flows else ""))
    return lines


def positions(state: StreamlitFlowState) -> dict[str, tuple[float, float]]:
    return {n.id: (round(n.position["x"], 1), round(n.position["y"], 1)) for n in state.nodes}


def render(key: str, state: StreamlitFlowState) -> StreamlitFlowState:
    """Draw the diagram; returns the state the user left it in (drags, selection)."""
    return streamlit_flow(key, state, height=frame_height(state), fit_view=True,
                          layout=ManualLayout(), get_node_on_click=True, hide_watermark=True,
                          min_zoom=MIN_ZOOM,
                          show_minimap=False)
