"""The only way to act on PaperDesk: validate at once, then queue a command for the engine.

UI, CLI and tests all call these functions. Each checks the request against the current state
(including commands still queued), raises BadInput / NotAllowed / NotFound with a clear message
and writes nothing on error; otherwise it records a Command row that the engine applies in order.
The checks and the command rows are engine.control.queueing's SQL, which the CLI's fast path runs
too.
"""

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from engine.control import queueing
from engine.control.outcome import Outcome
from engine.control.queueing import CommandResult
from engine.control.session_spec import validate_session
from engine.core.lifecycle import TERMINAL_SESSION
from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput, NotAllowed, NotFound, WaitTimeout, shown
from engine.params import MAX_ID, actor, client_key, session_key, whole
from engine.reads.records import SessionDocument
from engine.reads.status import AlertGroup
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import AlertAck, LoginFailure, NodePosition, PaperSession
from engine.store.plainsql import AlchemySql


@contextmanager
def _sql(db: Engine) -> Iterator[AlchemySql]:
    """One short unit of work for engine.control.queueing: commit on success, roll back on error."""
    with db.begin() as connection:
        yield AlchemySql(connection)


def _session(db: Session, session_id: Any) -> PaperSession:
    key = session_key(session_id)
    session = db.get(PaperSession, key)
    if session is None:
        raise NotFound(f"no session {key}")
    return session


def system_action(db: Engine, action: str, by: str = "cli") -> Outcome:
    """Queue start/stop/pause/resume of the whole system (the master switch)."""
    with _sql(db) as sql:
        command = queueing.system_action(sql, action, by)
    return Outcome(f"system {action} queued", command=command)


def agent_action(db: Engine, agent_id: str, action: str, by: str = "cli") -> Outcome:
    """Queue start or stop of one agent."""
    with _sql(db) as sql:
        command = queueing.agent_action(sql, agent_id, action, by)
    return Outcome(f"agent {agent_id}: {action} queued", command=command)


def update_agent_config(db: Engine, agent_id: str, changes: dict[str, Any],
                        by: str = "cli") -> Outcome:
    """Validate config changes against the agent type's schema and queue them."""
    with _sql(db) as sql:
        command = queueing.update_agent_config(sql, agent_id, changes, by)
    return Outcome(f"agent {agent_id}: settings change queued", command=command)


def reset_agent_metrics(db: Engine, agent_id: str, by: str = "cli") -> Outcome:
    with _sql(db) as sql:
        command = queueing.reset_agent_metrics(sql, agent_id, by)
    return Outcome(f"agent {agent_id}: metrics reset queued", command=command)


def reload_strategies(db: Engine, by: str = "cli") -> Outcome:
    """Queue loading PAPERDESK_HOME/strategies again in the running engine."""
    with _sql(db) as sql:
        command = queueing.reload_strategies(sql, by)
    return Outcome("strategies reload queued", command=command)


def create_session(
    db: Engine, spec: dict[str, Any], start: bool = False, by: str = "cli"
) -> Outcome:
    """Create a session (status created) and, with `start`, queue its start."""
    by = actor(by)
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
        command = (queueing.queue_command(AlchemySql(s.connection()), "session",
                                          str(session.id), "start", {}, by)
                   if start else None)
        return Outcome(f"session {session.id} created" + (", start queued" if start else ""),
                       command=command, id=session.id)


def session_action(
    db: Engine, session_id: Any, action: str, close_positions: bool = False, by: str = "cli"
) -> Outcome:
    """Queue start/pause/resume/stop of one session (stop may close positions)."""
    with _sql(db) as sql:
        command = queueing.session_action(sql, session_id, action, close_positions, by)
    return Outcome(f"session {session_id}: {action} queued", command=command)


def close_position(db: Engine, session_id: Any, by: str = "cli") -> Outcome:
    """Queue an operator's close of a running or paused session's position: at its next bar
    the engine cancels its working orders and sells every holding at market through the
    session's fill model, as a manual order naming `by`; Reconcile replays it at that bar."""
    with _sql(db) as sql:
        command = queueing.close_position(sql, session_id, by)
    return Outcome(f"session {session_id}: close position queued", command=command)


def bulk_session_action(db: Engine, action: str, by: str = "cli") -> Outcome:
    """Queue pause_all / resume_all / stop_all: every session the action applies to."""
    with _sql(db) as sql:
        command = queueing.bulk_session_action(sql, action, by)
    return Outcome(f"{action.replace('_', ' ')} queued", command=command)


def set_session_speed(db: Engine, session_id: Any, speed: Any, until: Any = None,
                      then: Any = None, by: str = "cli") -> Outcome:
    """Queue a speed change: bars per second or `max`; `max` may stop at `until` (a bar
    time) and continue at `then` bars per second."""
    with _sql(db) as sql:
        command = queueing.set_session_speed(sql, session_id, speed, until, then, by)
    return Outcome(f"session {session_id}: speed {speed} queued", command=command)


def update_session_config(db: Engine, session_id: Any, changes: dict[str, Any],
                          by: str = "cli") -> Outcome:
    """Queue a settings change from the next bar on: strategy parameters by name, or
    fee_bps, slippage_bps, position_size, stop_loss_pct, take_profit_pct."""
    with _sql(db) as sql:
        command = queueing.update_session_config(sql, session_id, changes, by)
    return Outcome(f"session {session_id}: settings change queued", command=command)


def archive_session(
    db: Engine, session_id: Any, archived: bool = True, by: str = "cli"
) -> Outcome:
    """Hide a stopped session from the default list (it stays in the database)."""
    by, archived = actor(by), bool(archived)
    with session_scope(db) as s:
        session = _session(s, session_id)
        if session.status not in TERMINAL_SESSION:
            raise NotAllowed(
                f"cannot archive session {session.id}: it is {session.status}; stop it first"
            )
        session.archived = archived
        s.add(session)
        verb = "archived" if archived else "unarchived"
        message = f"session {session.id} ({session.name}) {verb} by {by}"
        record_event(s, f"session-{session.id}", verb, message)
        return Outcome(message)


def save_node_positions(db: Engine, positions: dict[str, tuple[float, float]]) -> Outcome:
    """Remember where the user dragged the flow diagram's nodes (UI-owned layout)."""
    checked = _node_positions(positions)
    with session_scope(db) as s:
        for node_id, (x, y) in checked.items():
            row = s.get(NodePosition, node_id) or NodePosition(node_id=node_id, x=x, y=y)
            row.x, row.y = x, y
            s.add(row)
    return Outcome(f"{len(positions)} node position(s) saved")


MAX_COORDINATE = 1e6  # pixels from the diagram's origin


def _node_positions(positions: Any) -> dict[str, tuple[float, float]]:
    """{node id: (x, y)} with finite coordinates (NaN or inf is refused on every database)."""
    if not isinstance(positions, Mapping):
        raise BadInput(f"positions must map node ids to (x, y) (got {shown(positions)})")
    checked = {}
    for node_id, xy in positions.items():
        if not isinstance(node_id, str) or not 1 <= len(node_id) <= 64 \
                or not node_id.isprintable():
            raise BadInput(f"node id {shown(node_id)} is not valid")
        try:
            x, y = (float(v) for v in xy)
        except (TypeError, ValueError, OverflowError):
            raise BadInput(f"position of node {node_id!r} must be two numbers x, y (got "
                           f"{shown(xy)})") from None
        if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in (x, y)):
            raise BadInput(f"position of node {node_id!r} must be finite numbers within "
                           f"±{MAX_COORDINATE:g} (got {shown(xy)})")
        checked[node_id] = (x, y)
    return checked


# ---------------------------------------------------------------- waiting


def wait_for(db: Engine, outcome: Outcome, timeout: float,
             poll: float = 0.05) -> CommandResult | None:
    """Wait until the engine has applied the command `outcome` queued (None: it queued none);
    raise if rejected, failed or late."""
    if not isinstance(outcome, Outcome):
        raise BadInput(f"wait_for takes the Outcome of an action (got {shown(outcome)})")
    timeout, poll = _seconds(timeout, "timeout"), _seconds(poll, "poll", 0.001)
    if outcome.command is None:
        return None
    command_id = whole(outcome.command, "command id", 1, MAX_ID)

    def read() -> CommandResult:
        with _sql(db) as sql:
            return queueing.command_result(sql, command_id)

    return queueing.wait_for(read, command_id, timeout, poll)


MAX_WAIT_S = 86_400.0


def _seconds(value: Any, field: str, low: float = 0.0) -> float:
    """Seconds to wait or between polls: a number from `low` to a day."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{field} must be a number of seconds (got {shown(value)})")
    if not low <= value <= MAX_WAIT_S:
        raise BadInput(f"{field} must be {low:g} to {MAX_WAIT_S:g} seconds (got {shown(value)})")
    return float(value)


def session_document(db: Engine, session_id) -> SessionDocument:
    from engine.reads.queries import (
        session_document as read,  # on use: control starts without pandas
    )

    return read(db, session_id)


def wait_for_session(db: Engine, session_id: int, timeout: float, poll: float = 0.25,
                     progress=None) -> SessionDocument:
    """Wait until a session's fast-forward ends: its clock stops running (completed, paused,
    stopped or error) or, fast-forwarding to a date, plays on at its `then` speed; report its
    document to `progress` on the way; raise WaitTimeout when late."""
    timeout, poll = _seconds(timeout, "timeout"), _seconds(poll, "poll", 0.001)
    if progress is not None and not callable(progress):
        raise BadInput(f"progress must be a function of the session document (got "
                       f"{shown(progress)})")
    deadline = time.monotonic() + timeout
    while True:
        doc = session_document(db, session_id)
        if progress:
            progress(doc)
        if doc.status != "running" or doc.speed != FAST_FORWARD:
            return doc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"session {session_id} still running after {timeout:g}s "
                              f"(bar {doc.bars_done} of {doc.bars_total})")
        time.sleep(poll)


def _alert_group(group: Any) -> bool:
    return (isinstance(group, AlertGroup) and isinstance(group.last_event_id, int)
            and 0 <= group.last_event_id <= MAX_ID
            and all(isinstance(t, str) and 0 < len(t) <= n and t.isprintable()
                    for t, n in ((group.source, 64), (group.kind, 32))))


def record_login_failure(db: Engine, client: str) -> None:
    """Remember a wrong shared password from `client` (the lockout counts these)."""
    client = client_key(client)
    with session_scope(db) as s:
        s.add(LoginFailure(client=client))


def clear_login_failures(db: Engine, client: str) -> None:
    client = client_key(client)
    with session_scope(db) as s:
        s.execute(delete(LoginFailure).where(LoginFailure.client == client))


def acknowledge_alerts(db: Engine, groups: list[AlertGroup], by: str = "cli") -> Outcome:
    """Hide each group's alerts up to its latest event, naming who acknowledged them; a later
    alert of the same source and kind shows the group again."""
    by = actor(by)
    if not isinstance(groups, list | tuple) or not all(_alert_group(g) for g in groups):
        raise BadInput(f"groups must be a list of alert groups as engine.reads.status."
                       f"alert_groups gives them (got {shown(groups)})")
    with session_scope(db) as s:
        # a click the browser sends twice, or a group already acknowledged elsewhere, adds nothing
        done = {g for g in groups if s.execute(
            select(AlertAck.id).where(AlertAck.source == g.source, AlertAck.kind == g.kind,
                                      AlertAck.upto_event_id >= g.last_event_id)).first()}
        s.add_all(AlertAck(source=g.source, kind=g.kind, upto_event_id=g.last_event_id,
                           acknowledged_by=by) for g in groups if g not in done)
    return Outcome(f"{len(groups)} alert group(s) acknowledged by {by}")
