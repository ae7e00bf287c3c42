"""One status vocabulary (engine.reads.words): the agent card, the diagram's node, the sidebar,
the system summary and the CLI say the same word in the same colour for an agent or a session,
whatever moment of an agent's retry cycle they read."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.reads import queries, status
from engine.reads.summary import system_summary
from engine.reads.words import COLOURS, agent_word, pipeline_hold, session_word
from engine.store.db import session_scope
from engine.store.models import Agent, PaperSession
from engine.store.types import utcnow
from tests.conftest import run_main
from tests.views.conftest import run_page
from ui import flow

RETRY = utcnow() + timedelta(seconds=30)
# (stored status, consecutive errors, retry_at) → the word; the last three are one failing
# agent read at three moments of a retry: its status flips, its word does not.
CASES = [("running", 0, None, "running"), ("running", 2, None, "degraded"),
         ("stopped", 0, None, "stopped"), ("error", 5, RETRY, "error"),
         ("starting", 5, RETRY, "error"), ("running", 5, RETRY, "error")]


def test_agent_words():
    for state, errors, retry, word in CASES:
        shown = agent_word(state, errors, retry)
        assert (shown.word, shown.hex, shown.tone) == (word, *COLOURS[word])
    assert agent_word("error", 0).word == "error"  # metrics reset while in error


def test_session_words_say_why_a_running_session_waits():
    assert session_word("running").word == "running"
    waiting = session_word("running", "waiting for BTC-USD bars after 2024-01-01 00:00")
    assert (waiting.word, waiting.hex) == ("waiting", COLOURS["waiting"][0])
    assert "BTC-USD bars" in waiting.why
    held = session_word("running", "waiting for BTC-USD bars", "execution agent stopped: "
                        "fills held")
    assert held.why == "execution agent stopped: fills held"  # the stage, not the bars
    assert session_word("paused", "data stale: no bars").word == "paused"
    assert pipeline_hold({"execution": "error", "strategy": "running"}) == \
        "execution agent error: fills held"
    assert pipeline_hold({"execution": "degraded", "strategy": "stopped"}) == \
        "strategy agent stopped: decisions held"
    assert pipeline_hold({"execution": "running"}) is None


def _set_agent(db, state: str, errors: int, retry) -> None:
    with session_scope(db) as s:
        s.execute(update(Agent).where(Agent.id == "sentiment").values(
            status=state, consecutive_errors=errors, retry_at=retry,
            last_error="HTTP Error 500" if errors else None))


@pytest.mark.parametrize(("state", "errors", "retry", "word"), CASES[1:],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES[1:]])
def test_card_node_sidebar_summary_and_cli_say_one_word(filled, db, env, state, errors, retry,
                                                        word):
    _set_agent(db, state, errors, retry)
    hex_, tone = COLOURS[word]
    assert status.agent(db, "sentiment").condition == word  # the card's read
    frame = queries.agents(db)
    node = flow.agent_node(next(a for a in flow.cards(frame) if a.id == "sentiment"))
    assert f"● {word}" in node.content
    assert node.colour == hex_
    assert system_summary(db).agents.get(word) == 1  # `python -m engine status`
    shown = run_main("agent", "show", "sentiment").stdout.splitlines()
    assert shown[0] == f"status: {word}"
    assert f"lifecycle_status: {state}" in shown
    table = run_main("agents").stdout
    assert any(line.split()[:2] == ["sentiment", word] for line in table.splitlines())
    at = run_page("agents", agent_selected="sentiment")
    assert not at.exception
    assert any(m.value.startswith("### Sentiment") and f":{tone}-badge[● {word}]" in m.value
               for m in at.markdown)  # the card's heading
    side = [m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
    assert any(f":{tone}-badge[● 1 {word}]" in v for v in side)
    if word in ("degraded", "error"):  # named with its error
        assert any(f":{tone}[**Sentiment** {word}]" in v for v in side)


def test_a_held_session_is_waiting_on_every_surface(filled, db):
    sid = filled["running"]
    with session_scope(db) as s:
        s.execute(update(Agent).where(Agent.id == "execution").values(status="stopped"))
    why = "execution agent stopped: fills held"
    row = queries.sessions(db).set_index("id").loc[sid]
    assert (row["condition"], row["why"]) == ("waiting", why)
    doc = queries.session_document(db, sid)
    assert (doc.condition, doc.wait_reason) == ("waiting", why)
    assert system_summary(db).sessions.get("waiting") == 1
    node = next(n for n in flow.session_nodes(queries.sessions(db)) if n.id == f"session-{sid}")
    assert f"● waiting — {why}" in node.content
    assert node.colour == COLOURS["waiting"][0]
    shown = run_main("session", "show", str(sid)).stdout.splitlines()
    assert shown[0] == "status: waiting"
    assert f"wait_reason: {why}" in shown
    listed = run_main("sessions").stdout
    assert any(line.split()[:1] == [str(sid)] and "waiting" in line for line in
               listed.splitlines())
    with session_scope(db) as s:  # running again: the clock's own reason, if any, is shown
        s.execute(update(Agent).where(Agent.id == "execution").values(status="running"))
        s.execute(update(PaperSession).where(PaperSession.id == sid).values(
            wait_reason="waiting for BTC-USD bars after 2019-01-13 12:00 (market time)"))
    node = next(n for n in flow.session_nodes(queries.sessions(db)) if n.id == f"session-{sid}")
    assert "● waiting — waiting for BTC-USD bars" in node.content
