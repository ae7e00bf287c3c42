"""State machines for the system, agents, sessions and sweeps: one transition table each,
applied by engine.control.transitions. Orders and commands have statuses too (set by the
broker and the command applier), but no user acts on them, so they have no table."""

from enum import StrEnum

from engine.errors import BadInput, NotAllowed, shown


class SystemStatus(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


class AgentStatus(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    ERROR = "error"


class SessionStatus(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"  # its replay window ended
    ERROR = "error"


TERMINAL_SESSION = (SessionStatus.STOPPED, SessionStatus.COMPLETED)


class OrderStatus(StrEnum):
    PENDING = "pending"
    PARTIALLY_FILLED = "partially_filled"  # some filled, the rest still working
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


WORKING_ORDER = (OrderStatus.PENDING, OrderStatus.PARTIALLY_FILLED)  # may still fill


class CommandStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"
    FAILED = "failed"


# (current state, action) -> next state. Anything absent is not allowed.
SYSTEM_TRANSITIONS: dict[tuple[str, str], SystemStatus] = {
    (SystemStatus.STOPPED, "start"): SystemStatus.RUNNING,
    (SystemStatus.RUNNING, "pause"): SystemStatus.PAUSED,
    (SystemStatus.PAUSED, "resume"): SystemStatus.RUNNING,
    (SystemStatus.RUNNING, "stop"): SystemStatus.STOPPED,
    (SystemStatus.PAUSED, "stop"): SystemStatus.STOPPED,
}

AGENT_TRANSITIONS: dict[tuple[str, str], AgentStatus] = {
    (AgentStatus.STOPPED, "start"): AgentStatus.STARTING,
    (AgentStatus.ERROR, "start"): AgentStatus.STARTING,
    (AgentStatus.STARTING, "started"): AgentStatus.RUNNING,
    (AgentStatus.RUNNING, "stop"): AgentStatus.STOPPING,
    (AgentStatus.STARTING, "stop"): AgentStatus.STOPPING,
    (AgentStatus.ERROR, "stop"): AgentStatus.STOPPED,
    (AgentStatus.STOPPING, "stopped"): AgentStatus.STOPPED,
    **{(status, "fail"): AgentStatus.ERROR for status in AgentStatus},
}

SESSION_TRANSITIONS: dict[tuple[str, str], SessionStatus] = {
    (SessionStatus.CREATED, "start"): SessionStatus.RUNNING,
    (SessionStatus.RUNNING, "pause"): SessionStatus.PAUSED,
    (SessionStatus.PAUSED, "resume"): SessionStatus.RUNNING,
    (SessionStatus.RUNNING, "stop"): SessionStatus.STOPPED,
    (SessionStatus.PAUSED, "stop"): SessionStatus.STOPPED,
    (SessionStatus.CREATED, "stop"): SessionStatus.STOPPED,
    (SessionStatus.ERROR, "stop"): SessionStatus.STOPPED,
    (SessionStatus.RUNNING, "complete"): SessionStatus.COMPLETED,
    **{(status, "fail"): SessionStatus.ERROR for status in SessionStatus
       if status not in TERMINAL_SESSION},
}

class SweepStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


TERMINAL_SWEEP = (SweepStatus.COMPLETED, SweepStatus.CANCELLED, SweepStatus.ERROR)
SWEEP_TRANSITIONS: dict[tuple[str, str], SweepStatus] = {
    (SweepStatus.QUEUED, "start"): SweepStatus.RUNNING,
    (SweepStatus.QUEUED, "cancel"): SweepStatus.CANCELLED,
    (SweepStatus.RUNNING, "complete"): SweepStatus.COMPLETED,
    (SweepStatus.RUNNING, "cancel"): SweepStatus.CANCELLED,
    (SweepStatus.RUNNING, "fail"): SweepStatus.ERROR,
}

TABLES = {"system": SYSTEM_TRANSITIONS, "agent": AGENT_TRANSITIONS, "session": SESSION_TRANSITIONS,
          "sweep": SWEEP_TRANSITIONS}


INTERNAL_ACTIONS = {"started", "stopped", "fail", "complete"}  # the engine's, not a user's


def allowed_actions(kind: str, status: str) -> list[str]:
    """List the user actions a `kind` ("system", "agent", "session", "sweep") allows from
    `status`."""
    return [a for (s, a) in TABLES[kind] if s == status and a not in INTERNAL_ACTIONS]


def next_status(kind: str, status: str, action: str, label: str = "") -> str:
    """Return the state `action` leads to from `status`, or raise NotAllowed naming all three
    (BadInput for an action that is not a line of text: it would be quoted in the message)."""
    if not isinstance(action, str) or not action.isprintable():
        known = sorted({a for (_, a) in TABLES[kind]} - INTERNAL_ACTIONS)
        raise BadInput(f"{kind} action must be one of {', '.join(known)} (got {shown(action)})")
    target = TABLES[kind].get((status, action))
    if target is None:
        allowed = allowed_actions(kind, status) or ["nothing"]
        who = f"{kind} {label}".strip()
        raise NotAllowed(
            f"cannot {action} {who}: it is {status}; allowed: {', '.join(allowed)}"
        )
    return target
