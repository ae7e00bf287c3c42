import pytest

from engine.core.lifecycle import (
    AGENT_TRANSITIONS,
    SESSION_TRANSITIONS,
    SYSTEM_TRANSITIONS,
    AgentStatus,
    SessionStatus,
    SystemStatus,
    allowed_actions,
    next_status,
)
from engine.errors import NotAllowed


@pytest.mark.parametrize(
    ("kind", "status", "action", "expected"),
    [
        ("system", "stopped", "start", "running"),
        ("system", "running", "pause", "paused"),
        ("system", "paused", "resume", "running"),
        ("system", "paused", "stop", "stopped"),
        ("session", "created", "start", "running"),
        ("session", "running", "pause", "paused"),
        ("session", "paused", "resume", "running"),
        ("session", "paused", "stop", "stopped"),
        ("session", "running", "fail", "error"),
        ("agent", "stopped", "start", "starting"),
        ("agent", "starting", "started", "running"),
        ("agent", "running", "stop", "stopping"),
        ("agent", "stopping", "stopped", "stopped"),
        ("agent", "running", "fail", "error"),
        ("agent", "error", "start", "starting"),
    ],
)
def test_legal_transitions(kind, status, action, expected):
    assert next_status(kind, status, action) == expected


@pytest.mark.parametrize(
    ("kind", "status", "action", "allowed"),
    [
        ("session", "paused", "pause", "resume, stop"),
        ("session", "stopped", "resume", "nothing"),
        ("system", "stopped", "pause", "start"),
        ("agent", "stopped", "stop", "start"),
    ],
)
def test_illegal_transition_names_action_state_and_allowed(kind, status, action, allowed):
    with pytest.raises(NotAllowed) as err:
        next_status(kind, status, action, "x")
    message = str(err.value)
    assert f"cannot {action}" in message
    assert f"it is {status}" in message
    assert f"allowed: {allowed}" in message


def test_stopped_and_completed_sessions_are_terminal():
    for status in ("stopped", "completed"):
        assert allowed_actions("session", status) == []
        assert not [a for (s, a) in SESSION_TRANSITIONS if s == status]
    assert next_status("session", "running", "complete") == "completed"
    with pytest.raises(NotAllowed):
        next_status("session", "paused", "complete")
    assert "complete" not in allowed_actions("session", "running")


@pytest.mark.parametrize(("table", "enum", "initial"), [
    (SYSTEM_TRANSITIONS, SystemStatus, SystemStatus.STOPPED),
    (AGENT_TRANSITIONS, AgentStatus, AgentStatus.STOPPED),
    (SESSION_TRANSITIONS, SessionStatus, SessionStatus.CREATED),
])
def test_every_state_is_reachable_and_every_status_is_in_the_table(table, enum, initial):
    """Each table's states are exactly its enum, all reachable from the initial state."""
    states = {s for s, _ in table} | set(table.values())
    assert states == set(enum)
    reached, frontier = {initial}, [initial]
    while frontier:
        here = frontier.pop()
        for (source, _), target in table.items():
            if source == here and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(enum)
