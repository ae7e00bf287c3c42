import pytest
from sqlalchemy import update
from streamlit_flow.elements import StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from engine.reads import queries, status
from engine.reads.status import FlowCounts
from engine.store.db import session_scope
from engine.store.models import PaperSession
from tests.conftest import ROOT
from tests.views.conftest import answer_dialog, commands, dialog_titles, run_page
from ui import flow


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_card_of_the_selected_agent_with_controls(filled, db):
    at = run_page("agents", agent_selected="strategy")
    assert not at.exception
    assert any("Strategy" in m.value and "running" in m.value for m in at.markdown)
    assert _button(at, "agent_start").disabled
    _button(at, "agent_stop").click().run()
    assert dialog_titles(at) == ["Stop the Strategy agent?"]
    answer_dialog(at, confirm=True)
    assert commands(db)[-1] == ("agent", "strategy", "stop", {})
    assert any("tick log line from strategy" in c.value for c in at.code)


def test_config_editor_validates_before_recording(filled, db):
    at = run_page("agents", agent_selected="market_data")
    field = next(t for t in at.text_input if t.label == "stale_after_bars")
    field.input("0")
    next(b for b in at.button if b.label == "Apply config").click().run()
    assert commands(db) == []
    assert any("stale_after_bars must be at least 1" in e.value for e in at.error)
    field = next(t for t in at.text_input if t.label == "stale_after_bars")
    field.input("3")
    next(b for b in at.button if b.label == "Apply config").click().run()
    assert commands(db)[-1] == ("agent", "market_data", "configure", {"stale_after_bars": 3.0})


def test_flow_state_has_every_agent_its_inputs_and_running_sessions(filled, db):
    agents = queries.agents(db)
    sessions = queries.sessions(db)
    state = flow.build_state(agents, sessions, {"strategy": (11.0, 22.0)}, None)
    ids = [n.id for n in state.nodes]
    assert ids[:4] == ["market_data", "sentiment", "strategy", "execution"]
    assert f"session-{filled['running']}" in ids
    assert f"session-{filled['created']}" not in ids
    assert next(n for n in state.nodes if n.id == "strategy").position == {"x": 11.0, "y": 22.0}
    edges = {(e.source, e.target) for e in state.edges}
    assert {("market_data", "sentiment"), ("market_data", "strategy"),
            ("sentiment", "strategy"), ("strategy", "execution"),
            ("execution", f"session-{filled['running']}")} == edges
    colours = {n.id: n.style["border"] for n in state.nodes}
    assert "#16a34a" in colours["strategy"]
    again = flow.build_state(agents, sessions, {}, state)
    assert (again.nodes, again.edges) == (state.nodes, state.edges)
    assert again.timestamp < state.timestamp  # nothing changed: the frontend keeps its state


def test_status_changes_show_at_once_and_figures_wait(filled, db):
    agents = queries.agents(db)
    sessions = queries.sessions(db)
    state = flow.build_state(agents, sessions, {}, None)
    stopped = agents.copy()
    stopped.loc[stopped["id"] == "strategy", ["status", "condition"]] = "stopped"
    changed = flow.build_state(stopped, sessions, {}, state)
    assert changed.nodes != state.nodes
    assert changed.timestamp == state.timestamp  # applies unless a click came since
    assert "#6b7280" in next(n for n in changed.nodes if n.id == "strategy").style["border"]
    busier = agents.copy()
    busier.at[busier.index[busier["id"] == "strategy"][0], "summary"] = {
        "sessions_served": 99, "orders_decided": 1234}
    assert flow.build_state(busier, sessions, {}, state).timestamp < state.timestamp  # too soon


def test_sentiment_card_shows_scores_with_their_source(filled, db):
    at = run_page("agents", agent_selected="sentiment")
    assert not at.exception
    assert any("VADER" in c.value for c in at.caption)
    scores = next(d.value for d in at.dataframe if "label" in d.value.columns)
    assert len(scores) > 0
    assert (scores["source"] == "price-mood").all()  # no news configured: price mood, labelled
    assert scores["label"].str.startswith("mood: ").all()


def test_fresh_install_without_agents_says_so(db):
    at = run_page("agents")
    assert not at.exception
    assert any("No agents registered yet" in i.value and "first start" in i.value
               for i in at.info)


def test_degraded_agent_is_amber_with_its_error(filled, db):
    agents = queries.agents(db)
    failing = agents.copy()
    row = failing.index[failing["id"] == "sentiment"][0]
    failing.at[row, "condition"] = "degraded"
    failing.at[row, "consecutive_errors"] = 7
    failing.at[row, "last_error"] = "HTTP 500 from feed"
    node = flow.agent_node(flow.cards(failing.loc[[row]])[0])
    assert node.colour == "#d97706"
    assert "degraded" in node.content
    assert "HTTP 500 from feed" in node.content
    assert "7 failing ticks" in node.content
    failing.at[row, "condition"] = "error"
    assert flow.agent_node(flow.cards(failing.loc[[row]])[0]).colour == "#dc2626"


def _edges(state) -> dict:
    return {(e.source, e.target): e for e in state.edges}


def test_edges_carry_throughput_per_minute_and_arrowheads(filled, db):
    agents, sessions = queries.agents(db), queries.sessions(db)
    running = filled["running"]
    samples: list = []
    assert flow.throughput(FlowCounts(100, 40, 1, 0, {}), samples, 1000.0).bars is None
    rates = flow.throughput(FlowCounts(160, 50, 1, 3, {running: 2}), samples, 1030.0)
    assert rates.bars == 120  # 60 bar times in 30 s
    assert rates.scores == 20  # 10 of them a news session's, each reading its scores
    edges = _edges(flow.build_state(agents, sessions, {}, None, rates))
    assert edges[("market_data", "strategy")].label == "120 bars/min"
    assert edges[("sentiment", "strategy")].label == "20 scores/min"
    assert edges[("strategy", "execution")].label == "3 orders/min"
    assert edges[("execution", f"session-{running}")].label == "2 fills/min"
    assert all(e.marker_end["type"] == "arrowclosed" for e in edges.values())
    later = flow.throughput(FlowCounts(160, 50, 1, 0, {}), samples, 1080.0)  # 1000 s aged out
    assert later.bars == pytest.approx(0.0)
    lines = flow.compact(agents, sessions, rates)
    assert "3 orders/min → Execution" in lines[2]
    assert "2 fills/min → 1 sessions" in lines[3]
    unused = flow.throughput(FlowCounts(170, 50, 0, 0, {}), samples, 1090.0)
    edges = _edges(flow.build_state(agents, sessions, {}, None, unused))
    assert edges[("sentiment", "strategy")].label == "not used by any session"


def test_the_sentiment_arrow_counts_what_news_sessions_read(filled, db):
    """flow_counts from the database: only a running or paused `news` session uses news."""
    assert status.flow_counts(db).news_sessions == 0
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == filled["running"])
                  .values(sentiment="news", bars_done=70))
    counts = status.flow_counts(db)
    assert (counts.news_sessions, counts.news_bars) == (1, 70)
    with session_scope(db) as s:
        s.execute(update(PaperSession).where(PaperSession.id == filled["running"])
                  .values(status="stopped"))
    assert status.flow_counts(db).news_sessions == 0


def test_dark_mode_nodes_are_dark_and_a_theme_switch_shows_at_once(filled, db):
    agents, sessions = queries.agents(db), queries.sessions(db)
    light = flow.build_state(agents, sessions, {}, None)
    dark = flow.build_state(agents, sessions, {}, light, dark=True)
    assert dark is not light
    for node in dark.nodes:
        assert node.style["backgroundColor"] == flow.DARK.card
        assert node.style["color"] == flow.DARK.text
    assert {n.style["backgroundColor"] for n in light.nodes} == {flow.LIGHT.card}


def test_strategy_card_lists_the_operators_files_and_names_a_broken_one(filled, env):
    from pathlib import Path

    folder = Path(env["PAPERDESK_HOME"]) / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "macd.py").write_text((ROOT / "examples" / "strategies" / "macd.py").read_text())
    (folder / "oops.py").write_text("x = [1, 2\n")
    at = run_page("agents", agent_selected="strategy")
    assert not at.exception
    table = next(df.value for df in at.dataframe if "sha256" in df.value.columns)
    assert list(table["strategy"]) == ["ma_crossover", "rsi_reversion", "blend", "macd_crossover"]
    assert list(table["file"])[-1] == "macd.py"
    assert any(e.value.startswith("Not loaded: oops.py:1: SyntaxError") for e in at.error)


def test_sessions_sit_in_rows_under_the_pipeline_and_the_frame_grows_with_them(filled, db):
    """Readable at 1440 px: no zoom shows text under 12 px, and the default layout is no wider
    than the pipeline's four stages, so it fits the frame at that zoom."""
    assert flow.FONT_PX * flow.MIN_ZOOM >= 12
    spec = flow.NodeSpec("session-1", "", "#000000", "session")
    places = [flow.default_position(spec, i) for i in range(flow.MAX_SESSION_NODES + 1)]
    execution = flow.DEFAULT_POSITIONS["execution"]
    assert places[0] == (execution[0], flow.SESSION_TOP)
    assert min(x for x, _ in places) >= min(x for x, _ in flow.DEFAULT_POSITIONS.values())
    assert max(x for x, _ in places) == max(x for x, _ in flow.DEFAULT_POSITIONS.values())
    assert all(y > execution[1] for _, y in places)
    state = flow.build_state(queries.agents(db), queries.sessions(db), {}, None)
    assert flow.frame_height(state) == flow.FRAME_PX  # one running session: one row
    many = state.nodes + [StreamlitFlowNode(f"session-{i}", (0, 0), {"content": ""})
                          for i in range(100, 105)]
    taller = flow.frame_height(StreamlitFlowState(many, state.edges))
    assert taller == flow.FRAME_PX + round(flow.SESSION_ROW * flow.MIN_ZOOM)
    sessions_edge = next(n for n in state.nodes if n.id == "execution")
    assert sessions_edge.source_position == "bottom"
