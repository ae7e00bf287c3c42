"""The only way to act on PaperDesk: validate at once, then queue a command for the engine.

UI, CLI and tests all call these functions. Each checks the request against the current state
(including commands still queued), raises BadInput / NotAllowed / NotFound with a clear message
and writes nothing on error; otherwise it records a Command row that the engine applies in order.
"""

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from engine import windows
from engine.agent_specs import agent_spec
from engine.core.strategies import strategy_class
from engine.db import session_scope
from engine.errors import BadInput, NotAllowed, NotFound, PaperDeskError, WaitTimeout
from engine.events import record_event
from engine.lifecycle import (
    TERMINAL_SESSION,
    CommandStatus,
    next_status,
)
from engine.models import (
    Agent,
    Command,
    LoginFailure,
    NodePosition,
    PaperSession,
    SystemState,
)
from engine.params import parse_params
from engine.session_spec import RISK_FIELDS, SESSION_FIELDS, validate_session
from engine.status import session_key

SESSION_ACTIONS = ("start", "pause", "resume", "stop")
BULK_ACTIONS = {"pause_all": "pause", "resume_all": "resume", "stop_all": "stop"}
# Internal steps (starting → running, stopping → stopped) are folded so queued commands project.
AGENT_SETTLED = {"starting": "running", "stopping": "stopped"}

@dataclass(frozen=True)
class CreatedSession:
    id: int
    start_command: int | None


@dataclass(frozen=True)
class CommandResult:
    id: int
    status: str
    message: str | None


# ---------------------------------------------------------------- validation helpers


def _system(db: Session) -> SystemState:
    return db.get(SystemState, 1) or SystemState()


def _agent(db: Session, agent_id: str) -> Agent:
    agent = db.get(Agent, agent_id) if isinstance(agent_id, str) else None
    if agent is None:
        raise NotFound(f"no agent {agent_id!r}")
    return agent


def _session(db: Session, session_id: Any) -> PaperSession:
    key = session_key(session_id)
    session = db.get(PaperSession, key)
    if session is None:
        raise NotFound(f"no session {key}")
    return session


def _pending(db: Session, target: str, target_id: str | None) -> list[Command]:
    query = select(Command).where(Command.status == CommandStatus.PENDING, Command.target == target)
    if target_id is not None:
        query = query.where(Command.target_id == target_id)
    return list(db.exec(query.order_by(Command.id)))


def _projected(db: Session, kind: str, target_id: str | None, status: str) -> str:
    """The state `status` will be in once the queued commands for it are applied."""
    for command in _pending(db, kind, target_id):
        action = BULK_ACTIONS.get(command.action, command.action)
        try:
            status = next_status(kind, status, action)
        except NotAllowed:
            continue
        status = AGENT_SETTLED.get(status, status)
    return status


def _queue(
    db: Session, target: str, target_id: str | None, action: str, payload: dict, by: str
) -> int:
    command = Command(
        target=target, target_id=target_id, action=action, payload=payload, requested_by=by
    )
    db.add(command)
    db.flush()
    return command.id


# ---------------------------------------------------------------- system


def system_action(db: Engine, action: str, by: str = "cli") -> int:
    """Queue start/stop/pause/resume of the whole system (the master switch)."""
    with session_scope(db) as s:
        state = _projected(s, "system", None, _system(s).status)
        next_status("system", state, action)
        return _queue(s, "system", None, action, {}, by)


# ---------------------------------------------------------------- agents


def agent_action(db: Engine, agent_id: str, action: str, by: str = "cli") -> int:
    """Queue start or stop of one agent."""
    if action not in ("start", "stop"):
        raise BadInput(f"agent action must be start or stop (got {action!r})")
    with session_scope(db) as s:
        agent = _agent(s, agent_id)
        state = AGENT_SETTLED.get(agent.status, agent.status)
        next_status("agent", _projected(s, "agent", agent.id, state), action, agent.id)
        return _queue(s, "agent", agent.id, action, {}, by)


def update_agent_config(db: Engine, agent_id: str, changes: dict[str, Any], by: str = "cli") -> int:
    """Validate config changes against the agent type's schema and queue them."""
    if not changes:
        raise BadInput("config needs at least one KEY=VALUE")
    with session_scope(db) as s:
        agent = _agent(s, agent_id)
        schema = agent_spec(agent.kind).config
        parsed = parse_params(schema, changes, where="config ", partial=True)
        return _queue(s, "agent", agent.id, "configure", parsed, by)


def reset_agent_metrics(db: Engine, agent_id: str, by: str = "cli") -> int:
    with session_scope(db) as s:
        return _queue(s, "agent", _agent(s, agent_id).id, "reset_metrics", {}, by)


# ---------------------------------------------------------------- sessions


def create_session(
    db: Engine, spec: dict[str, Any], start: bool = False, by: str = "cli"
) -> CreatedSession:
    """Create a session (status created) and, with `start`, queue its start."""
    fields = validate_session(db, spec)
    with session_scope(db) as s:
        session = PaperSession(**fields)
        s.add(session)
        s.flush()
        record_event(
            s, f"session-{session.id}", "created",
            f"session {session.id} ({session.name}) created: {session.strategy} on "
            f"{session.symbols} {session.timeframe}, cash {session.starting_cash:,.2f}",
        )
        command = _queue(s, "session", str(session.id), "start", {}, by) if start else None
        return CreatedSession(session.id, command)


def session_action(
    db: Engine, session_id: Any, action: str, close_positions: bool = False, by: str = "cli"
) -> int:
    """Queue start/pause/resume/stop of one session (stop may close positions)."""
    if action not in SESSION_ACTIONS:
        raise BadInput(f"session action must be one of {', '.join(SESSION_ACTIONS)}")
    with session_scope(db) as s:
        session = _session(s, session_id)
        key = str(session.id)
        state = _projected(s, "session", key, session.status)
        next_status("session", state, action, f"{session.id} ({session.name})")
        payload = {"close_positions": bool(close_positions)} if action == "stop" else {}
        return _queue(s, "session", key, action, payload, by)


def bulk_session_action(db: Engine, action: str, by: str = "cli") -> int:
    """Queue pause_all / resume_all / stop_all: every session the action applies to."""
    if action not in BULK_ACTIONS:
        raise BadInput(f"bulk action must be one of {', '.join(BULK_ACTIONS)}")
    with session_scope(db) as s:
        return _queue(s, "session", None, action, {}, by)


def _changeable(s: Session, session_id: Any, what: str) -> PaperSession:
    session = _session(s, session_id)
    state = _projected(s, "session", str(session.id), session.status)
    if state in TERMINAL_SESSION:
        raise NotAllowed(f"cannot change the {what} of session {session.id}: it is {state}")
    return session


def set_session_speed(db: Engine, session_id: Any, speed: Any, until: Any = None,
                      then: Any = None, by: str = "cli") -> int:
    """Queue a speed change: bars per second or `max`; `max` may stop at `until` (a bar
    time) and continue at `then` bars per second."""
    parsed = windows.parse_speed(speed)
    with session_scope(db) as s:
        session = _changeable(s, session_id, "speed")
        if session.source == "live":
            raise NotAllowed(f"cannot change the speed of session {session.id}: a live session "
                             "follows its feed")
        payload: dict[str, Any] = {"speed": parsed}
        stop_at = windows.parse_when(until, "until")
        if stop_at is not None:
            if parsed is not None:
                raise BadInput("until: only a max-speed fast-forward stops at a date")
            if not session.window_from <= stop_at <= session.window_to:
                raise BadInput(f"until must lie in the session's window "
                               f"{session.window_from:%Y-%m-%d %H:%M} – "
                               f"{session.window_to:%Y-%m-%d %H:%M}")
            after = windows.parse_speed(then if then not in (None, "") else "1", "then")
            if after is None:
                raise BadInput("then must be bars per second, not max")
            payload |= {"until": stop_at.isoformat(), "then": after}
        elif then not in (None, ""):
            raise BadInput("then goes with until")
        return _queue(s, "session", str(session.id), "speed", payload, by)


def update_session_config(db: Engine, session_id: Any, changes: dict[str, Any],
                          by: str = "cli") -> int:
    """Queue a settings change from the next bar on: strategy parameters by name, or
    fee_bps, slippage_bps, position_size, stop_loss_pct, take_profit_pct."""
    if not changes:
        raise BadInput("config needs at least one KEY=VALUE")
    with session_scope(db) as s:
        session = _changeable(s, session_id, "settings")
        strategy = strategy_class(session.strategy)
        risk = {k: v for k, v in changes.items() if k in RISK_FIELDS}
        given = {k: v for k, v in changes.items() if k not in RISK_FIELDS}
        unknown = sorted(set(given) - set(strategy.params))
        if unknown:
            raise BadInput(f"unknown setting {unknown[0]!r}; known: "
                           f"{', '.join([*strategy.params, *RISK_FIELDS])}")
        payload = parse_params({k: SESSION_FIELDS[k] for k in risk}, risk, partial=True)
        for key in ("stop_loss_pct", "take_profit_pct"):
            if key in payload:
                payload[key] = payload[key] or None  # 0 = off
        if given:
            payload["params"] = strategy.validate({**session.params, **given})
        return _queue(s, "session", str(session.id), "configure", payload, by)


def archive_session(
    db: Engine, session_id: Any, archived: bool = True, by: str = "cli"
) -> None:
    """Hide a stopped session from the default list (it stays in the database)."""
    with session_scope(db) as s:
        session = _session(s, session_id)
        if session.status not in TERMINAL_SESSION:
            raise NotAllowed(
                f"cannot archive session {session.id}: it is {session.status}; stop it first"
            )
        session.archived = archived
        s.add(session)
        verb = "archived" if archived else "unarchived"
        record_event(s, f"session-{session.id}", verb,
                     f"session {session.id} ({session.name}) {verb} by {by}")


def save_node_positions(db: Engine, positions: dict[str, tuple[float, float]]) -> None:
    """Remember where the user dragged the flow diagram's nodes (UI-owned layout)."""
    with session_scope(db) as s:
        for node_id, (x, y) in positions.items():
            if not isinstance(node_id, str) or len(node_id) > 64:
                raise BadInput(f"node id {node_id!r} is not valid")
            row = s.get(NodePosition, node_id) or NodePosition(node_id=node_id, x=x, y=y)
            row.x, row.y = float(x), float(y)
            s.add(row)


# ---------------------------------------------------------------- waiting


def wait_for(db: Engine, command_id: int, timeout: float, poll: float = 0.05) -> CommandResult:
    """Wait until the engine has handled `command_id`; raise if rejected, failed or late."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(db) as s:
            command = s.get(Command, command_id)
            if command is None:
                raise NotFound(f"no command {command_id}")
            result = CommandResult(command.id, command.status, command.message)
        if result.status == CommandStatus.APPLIED:
            return result
        if result.status == CommandStatus.REJECTED:
            raise NotAllowed(result.message or "rejected by the engine")
        if result.status == CommandStatus.FAILED:
            raise PaperDeskError(result.message or "failed in the engine")
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"command {command_id} still pending after {timeout:g}s "
                "(is the engine running? it stays queued)"
            )
        time.sleep(poll)


def session_document(db: Engine, session_id) -> dict:
    from engine.queries import session_document as read  # on use: control starts without pandas

    return read(db, session_id)


def wait_for_session(db: Engine, session_id: int, timeout: float, poll: float = 0.25,
                     progress=None) -> dict:
    """Wait until a session's clock stops running (completed, paused, stopped or error),
    reporting its document to `progress` on the way; raise WaitTimeout when late."""
    deadline = time.monotonic() + timeout
    while True:
        doc = session_document(db, session_id)
        if progress:
            progress(doc)
        if doc["status"] != "running":
            return doc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"session {session_id} still running after {timeout:g}s "
                              f"(bar {doc['bars_done']} of {doc['bars_total']})")
        time.sleep(poll)


def record_login_failure(db: Engine, client: str) -> None:
    """Remember a wrong shared password from `client` (the lockout counts these)."""
    with session_scope(db) as s:
        s.add(LoginFailure(client=client[:200]))


def clear_login_failures(db: Engine, client: str) -> None:
    with session_scope(db) as s:
        s.execute(delete(LoginFailure).where(LoginFailure.client == client[:200]))
