import pytest

from engine.errors import NotAllowed
from engine.lifecycle import (
    AGENT_TRANSITIONS,
    SESSION_TRANSITIONS,
    SYSTEM_TRANSITIONS,
    allowed_actions,
    next_status,
)


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


def test_stopped_session_is_terminal():
    assert allowed_actions("session", "stopped") == []
    assert not [a for (s, a) in SESSION_TRANSITIONS if s == "stopped"]


def test_every_target_is_a_known_state():
    for table in (SYSTEM_TRANSITIONS, AGENT_TRANSITIONS, SESSION_TRANSITIONS):
        states = {s for s, _ in table} | set(table.values())
        assert all(isinstance(s, str) for s in states)
        assert {t for t in table.values()} <= states
