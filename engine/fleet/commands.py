"""The engine side of the control channel: apply queued commands in order.

Commands change the database state, once: with several workers on PostgreSQL one worker at a
time applies them, and every worker follows what they leave (a session no longer running is
dropped by its owner; agents follow their rows), so a system pause reaches every worker. The
owner's commit of a session's bars locks that session's row: a command on it waits for the
commit, or the commit sees the new status and is dropped.
"""

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlmodel import Session

from engine.broker.paper import BOOK_LOCK, cancel_open_orders, close_positions
from engine.control.queueing import CLOSABLE, CLOSE_POSITION
from engine.control.transitions import transition
from engine.core.lifecycle import (
    TERMINAL_SESSION,
    AgentStatus,
    CommandStatus,
    SessionStatus,
    SystemStatus,
)
from engine.core.portfolio import DUST
from engine.core.records import CLOSE, Intervention
from engine.core.settings import describe_change, speed_text
from engine.errors import NotAllowed, NotFound, PaperDeskError
from engine.logs import get_logger
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import Command, PaperSession, Position, SystemState
from engine.store.types import parse_time, utcnow


class Agentish(Protocol):
    id: str
    status: str

    def reset_metrics(self) -> None: ...

    def event(self, kind: str, message: str, severity: str = "info") -> None: ...


class EngineControl(Protocol):
    """What applying commands needs of the engine process (engine.fleet.runtime implements it)."""

    db: Any
    agents: Mapping[str, Agentish]

    @property
    def logs_dir(self) -> Path: ...

    def start_agent(self, agent_id: str, by: str = "") -> None: ...

    def stop_agent(self, agent_id: str, by: str = "") -> None: ...

    def configure_agent(self, agent_id: str, changes: dict, by: str = "") -> None: ...

    def reload_strategies(self, by: str) -> str: ...


log = logging.getLogger("paperdesk.engine")
BULK_FROM = {
    "pause_all": ("pause", (SessionStatus.RUNNING,)),
    "resume_all": ("resume", (SessionStatus.PAUSED,)),
    "stop_all": ("stop", (SessionStatus.CREATED, SessionStatus.RUNNING, SessionStatus.PAUSED,
                          SessionStatus.ERROR)),
}


def _change_session(rt: EngineControl, s: Session, session: PaperSession, action: str,
                    note: str = "", close: bool = False, by_system: bool = False) -> None:
    """Apply a session action with its side effects, inside the caller's transaction."""
    logger = get_logger(rt.logs_dir, f"session-{session.id}")
    transition(s, session, action, note=note, logger=logger)
    session.paused_by_system = by_system and action == "pause"
    now = utcnow()
    session.wait_reason = None
    if action == "start":
        session.started_at = now
    if session.source == "live" and action in ("start", "resume"):
        _live_from_now(s, session, now)
    if action == "stop":
        session.stopped_at = now
        cancelled = cancel_open_orders(s, session.id)
        if cancelled:
            logger.info("cancelled %d open order(s)", cancelled)
        if close:
            for fill in close_positions(s, session):
                logger.info("closed %s: sold %.8g @ %.4f", fill.symbol, fill.qty, fill.price)


def _live_from_now(s: Session, session: PaperSession, now) -> None:
    """A live session trades the bars that open from now on; bars that passed while it was
    paused are not traded, and the event says so (Reconcile names it)."""
    if session.last_bar_at is not None:
        record_event(s, f"session-{session.id}", "live_gap",
                     f"session {session.id}: live bars after {session.last_bar_at:%Y-%m-%d %H:%M}"
                     f" up to {now:%Y-%m-%d %H:%M} passed while paused; not traded", "warning")
    session.window_from = now


def _speed(s: Session, session: PaperSession, payload: dict, by: str) -> str:
    if session.status in TERMINAL_SESSION:
        raise NotAllowed(f"cannot change the speed of session {session.id}: it is "
                         f"{session.status}")
    session.speed = payload["speed"]
    session.ff_until = parse_time(payload.get("until"))
    session.ff_then = payload.get("then")
    shown = speed_text(session.speed) + ("" if session.speed is None else " bars/s")
    if session.ff_until is not None:
        shown += f" until {session.ff_until:%Y-%m-%d %H:%M}, then {session.ff_then:g} bars/s"
    message = f"session {session.id}: speed {shown} (by {by})"
    record_event(s, f"session-{session.id}", "speed", message)
    return message


def _configure(s: Session, session: PaperSession, changes: dict, by: str) -> str:
    """Change settings from the next bar on; the change and the bar are kept for Reconcile."""
    if session.status in TERMINAL_SESSION:
        raise NotAllowed(f"cannot change session {session.id}: it is {session.status}")
    before = {k: getattr(session, k) for k in changes}
    for key, value in changes.items():
        setattr(session, key, value)
    at = session.last_bar_at
    session.config_history = [*session.config_history, {
        "after_bar": at.isoformat() if at else None, "before": before, "after": changes,
        "by": by}]
    session.settings_rev += 1
    summary = describe_change(before, changes)
    when = f"after bar {at:%Y-%m-%d %H:%M}" if at else "before its first bar"
    message = f"session {session.id}: settings changed {when} by {by}: {summary}"
    record_event(s, f"session-{session.id}", "config", message)
    return message


def _close_position(rt: EngineControl, s: Session, session: PaperSession, by: str) -> str:
    """Record an operator's close after the session's last traded bar; its clock reloads
    (settings_rev) and the core applies it on the next bar, as every replay does."""
    if session.status not in CLOSABLE:
        raise NotAllowed(f"cannot close the position of session {session.id}: it is "
                         f"{session.status}")
    at = session.last_bar_at
    held = s.execute(select(Position.symbol, Position.qty).where(
        Position.session_id == session.id, Position.qty > DUST).order_by(Position.symbol)).all()
    if at is None or not held:
        raise NotAllowed(f"session {session.id} holds no position: nothing to close")
    if any(Intervention.of(i).after_bar >= at for i in session.interventions or []):
        raise NotAllowed(f"a close of session {session.id}'s position already waits for its "
                         "next bar")
    session.interventions = [*(session.interventions or []),
                             Intervention(CLOSE, at, by).as_dict()]
    session.settings_rev += 1
    sells = ", ".join(f"{qty:.8g} {symbol}" for symbol, qty in held)
    when = ("the next bar" if session.status == SessionStatus.RUNNING
            else "the first bar after it resumes")
    message = (f"session {session.id}: close position by {by} after bar {at:%Y-%m-%d %H:%M}: "
               f"sells {sells} at market on {when}")
    record_event(s, f"session-{session.id}", "intervention", message)
    get_logger(rt.logs_dir, f"session-{session.id}").info(message)
    return message


def _session(rt: EngineControl, command: Command) -> str:
    closing = command.action == CLOSE_POSITION
    with BOOK_LOCK, session_scope(rt.db) as s:
        # a close locks the row: a worker's commit of later bars waits, or is dropped after
        session = s.get(PaperSession, int(command.target_id), with_for_update=closing)
        if session is None:
            raise NotFound(f"no session {command.target_id}")
        if command.action == "speed":
            return _speed(s, session, command.payload, command.requested_by)
        if command.action == "configure":
            return _configure(s, session, command.payload, command.requested_by)
        if closing:
            return _close_position(rt, s, session, command.requested_by)
        _change_session(rt, s, session, command.action, note=f"by {command.requested_by}",
                        close=bool(command.payload.get("close_positions")))
        return f"session {session.id} is {session.status}"


def _bulk(rt: EngineControl, command: Command) -> str:
    action, sources = BULK_FROM[command.action]
    with BOOK_LOCK, session_scope(rt.db) as s:
        sessions = s.execute(select(PaperSession).where(PaperSession.status.in_(sources))
                             .order_by(PaperSession.id)).scalars()
        count = 0
        for session in sessions:
            _change_session(rt, s, session, action, note=f"{command.action.replace('_', ' ')} "
                            f"by {command.requested_by}")
            count += 1
        return f"{command.action.replace('_', ' ')}: {count} session(s)"


def _system_sessions(rt: EngineControl, s: Session, action: str, by: str) -> int:
    """Pause running sessions (system pause/stop) or resume the ones the system paused."""
    if action in ("pause", "stop"):
        query = select(PaperSession).where(PaperSession.status == SessionStatus.RUNNING)
        session_action = "pause"
    else:
        query = select(PaperSession).where(PaperSession.status == SessionStatus.PAUSED,
                                           PaperSession.paused_by_system.is_(True))
        session_action = "resume"
    sessions = list(s.execute(query.order_by(PaperSession.id)).scalars())
    for session in sessions:
        _change_session(rt, s, session, session_action, note=f"system {action} by {by}",
                        by_system=True)
    return len(sessions)


def _system(rt: EngineControl, command: Command) -> str:
    action = command.action
    with BOOK_LOCK, session_scope(rt.db) as s:
        state = s.get(SystemState, 1)
        by = command.requested_by
        transition(s, state, action, note=f"by {by}")
        moved = _system_sessions(rt, s, action, by)
    if action == "start":
        for agent in rt.agents.values():
            if agent.status in (AgentStatus.STOPPED, AgentStatus.ERROR):
                rt.start_agent(agent.id, by=f"system start by {by}")
    elif action == "stop":
        for agent in rt.agents.values():
            if agent.status != AgentStatus.STOPPED:
                rt.stop_agent(agent.id, by=f"system stop by {by}")
    return f"system is {SystemStatus(state.status)}; {moved} session(s) changed"


def _agent(rt: EngineControl, command: Command) -> str:
    agent = rt.agents.get(command.target_id)
    if agent is None:
        raise NotFound(f"no agent {command.target_id!r}")
    by = f"by {command.requested_by}"
    if command.action == "start":
        rt.start_agent(agent.id, by=by)
    elif command.action == "stop":
        rt.stop_agent(agent.id, by=by)
    elif command.action == "configure":
        rt.configure_agent(agent.id, command.payload, by=by)
    elif command.action == "reload":
        return rt.reload_strategies(by)
    else:
        agent.reset_metrics()
        agent.event("metrics_reset", f"agent {agent.id}: metrics reset")
    return f"agent {agent.id} is {agent.status}"


HANDLERS: dict[str, Callable[[EngineControl, Command], str]] = {
    "system": _system,
    "agent": _agent,
    "session": lambda rt, c: (_bulk if c.action in BULK_FROM else _session)(rt, c),
}


def _event_source(command: Command) -> str:
    if command.target == "session" and command.target_id:
        return f"session-{command.target_id}"
    return command.target_id or command.target


def _finish(rt: EngineControl, command: Command, status: str, message: str) -> None:
    """Mark the command handled; a rejection or failure also goes to the activity feed."""
    with session_scope(rt.db) as s:
        s.execute(update(Command).where(Command.id == command.id)
                  .values(status=status, message=message, applied_at=utcnow()))
        if status != CommandStatus.APPLIED:
            what = f"{command.target} {command.target_id or ''}".strip()
            severity = "warning" if status == CommandStatus.REJECTED else "error"
            record_event(s, _event_source(command), f"command_{status}",
                         f"command {command.id} ({command.action} {what}) {status}: {message}",
                         severity)


def apply_pending(rt: EngineControl, limit: int = 100) -> int:
    """Apply up to `limit` pending commands, oldest first; return how many were handled."""
    with Session(rt.db) as s:
        commands = list(s.execute(select(Command).where(Command.status == CommandStatus.PENDING)
                               .order_by(Command.id).limit(limit)).scalars())
    for command in commands:
        try:
            message = HANDLERS[command.target](rt, command)
            status = CommandStatus.APPLIED
        except NotAllowed as exc:
            status, message = CommandStatus.REJECTED, str(exc)
        except PaperDeskError as exc:
            status, message = CommandStatus.FAILED, str(exc)
        except Exception as exc:  # a bug must not stop the command loop; it is reported
            log.exception("command %s failed", command.id)
            status, message = CommandStatus.FAILED, f"{type(exc).__name__}: {exc}"
        _finish(rt, command, status, message)
    return len(commands)
