"""Check a request against the current state (including commands still queued), then queue it
as a command row: the SQL behind engine.control.actions's actions, with no ORM, so the CLI's fast
path and the dashboard run the same checks. Every function raises BadInput / NotAllowed / NotFound
with a clear message and writes nothing on error; the caller commits."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.core.lifecycle import (
    TERMINAL_SESSION,
    CommandStatus,
    SessionStatus,
    SystemStatus,
    next_status,
)
from engine.errors import BadInput, NotAllowed, NotFound, PaperDeskError, WaitTimeout, shown
from engine.params import actor, agent_key, mapping, parse_params, session_key
from engine.store.plainsql import Sql, loaded_json, loaded_time

SESSION_ACTIONS = ("start", "pause", "resume", "stop")
BULK_ACTIONS = {"pause_all": "pause", "resume_all": "resume", "stop_all": "stop"}
# Internal steps (starting → running, stopping → stopped) are folded so queued commands project.
AGENT_SETTLED = {"starting": "running", "stopping": "stopped"}


@dataclass(frozen=True)
class CommandResult:
    id: int
    status: str
    message: str | None


@dataclass(frozen=True)
class SessionRow:
    id: int
    name: str
    status: str
    source: str
    window_from: datetime | None
    window_to: datetime | None
    strategy: str
    params: dict


def _agent(sql: Sql, agent_id: Any) -> tuple[str, str, str]:
    """The agent's (id, kind, status)."""
    found = sql.rows("SELECT id, kind, status FROM agent WHERE id = ?", agent_key(agent_id))
    if not found:
        raise NotFound(f"no agent {agent_id!r}")
    return tuple(found[0])


def _session(sql: Sql, session_id: Any) -> SessionRow:
    key = session_key(session_id)
    found = sql.rows("SELECT id, name, status, source, window_from, window_to, strategy, params "
                     "FROM paper_session WHERE id = ?", key)
    if not found:
        raise NotFound(f"no session {key}")
    sid, name, status, source, window_from, window_to, strategy, params = found[0]
    return SessionRow(sid, name, status, source, loaded_time(window_from),
                      loaded_time(window_to), strategy, loaded_json(params))


def _projected(sql: Sql, kind: str, target_id: str | None, status: str) -> str:
    """The state `status` will be in once the queued commands for it are applied."""
    query = "SELECT action FROM command WHERE status = ? AND target = ?"
    params: tuple = (CommandStatus.PENDING.value, kind)
    if target_id is not None:
        query, params = query + " AND target_id = ?", (*params, target_id)
    for (action,) in sql.rows(query + " ORDER BY id", *params):
        try:
            status = next_status(kind, status, BULK_ACTIONS.get(action, action))
        except NotAllowed:
            continue
        status = AGENT_SETTLED.get(status, status)
    return status


def queue_command(sql: Sql, target: str, target_id: str | None, action: str, payload: dict,
                  by: str) -> int:
    """Record a command for the engine to apply (after the caller's checks)."""
    by = actor(by)
    return sql.value(
        "INSERT INTO command (created_at, target, target_id, action, payload, status, "
        "requested_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        sql.stored_time(datetime.now(UTC)), target, target_id, action, json.dumps(payload),
        CommandStatus.PENDING.value, by)


def system_action(sql: Sql, action: str, by: str = "cli") -> int:
    """Queue start/stop/pause/resume of the whole system (the master switch)."""
    status = sql.value("SELECT status FROM system_state WHERE id = 1") or SystemStatus.STOPPED
    next_status("system", _projected(sql, "system", None, status), action)
    return queue_command(sql, "system", None, action, {}, by)


def agent_action(sql: Sql, agent_id: str, action: str, by: str = "cli") -> int:
    """Queue start or stop of one agent."""
    if action not in ("start", "stop"):
        raise BadInput(f"agent action must be start or stop (got {shown(action)})")
    key, _, status = _agent(sql, agent_id)
    state = AGENT_SETTLED.get(status, status)
    next_status("agent", _projected(sql, "agent", key, state), action, key)
    return queue_command(sql, "agent", key, action, {}, by)


def update_agent_config(sql: Sql, agent_id: str, changes: dict[str, Any],
                        by: str = "cli") -> int:
    """Validate config changes against the agent type's schema and queue them."""
    from engine.registry.agents import agent_spec  # on use: no other command needs the kinds

    changes = mapping(changes, "config")
    if not changes:
        raise BadInput("config needs at least one KEY=VALUE")
    key, kind, _ = _agent(sql, agent_id)
    parsed = parse_params(agent_spec(kind).config, changes, where="config ", partial=True)
    return queue_command(sql, "agent", key, "configure", parsed, by)


def reset_agent_metrics(sql: Sql, agent_id: str, by: str = "cli") -> int:
    return queue_command(sql, "agent", _agent(sql, agent_id)[0], "reset_metrics", {}, by)


def reload_strategies(sql: Sql, by: str = "cli") -> int:
    """Queue loading the operator's strategy files again (the strategy agent does it)."""
    return queue_command(sql, "agent", _agent(sql, "strategy")[0], "reload", {}, by)


def session_action(sql: Sql, session_id: Any, action: str, close_positions: bool = False,
                   by: str = "cli") -> int:
    """Queue start/pause/resume/stop of one session (stop may close positions)."""
    if action not in SESSION_ACTIONS:
        raise BadInput(f"session action must be one of {', '.join(SESSION_ACTIONS)}")
    session = _session(sql, session_id)
    key = str(session.id)
    state = _projected(sql, "session", key, session.status)
    next_status("session", state, action, f"{session.id} ({session.name})")
    payload = {"close_positions": bool(close_positions)} if action == "stop" else {}
    return queue_command(sql, "session", key, action, payload, by)


def bulk_session_action(sql: Sql, action: str, by: str = "cli") -> int:
    """Queue pause_all / resume_all / stop_all: every session the action applies to."""
    if not isinstance(action, str) or action not in BULK_ACTIONS:
        raise BadInput(f"bulk action must be one of {', '.join(BULK_ACTIONS)}")
    return queue_command(sql, "session", None, action, {}, by)


CLOSE_POSITION = "close_position"
CLOSABLE = (SessionStatus.RUNNING, SessionStatus.PAUSED)


def close_position(sql: Sql, session_id: Any, by: str = "cli") -> int:
    """Queue an operator's close of a running or paused session's position: at its next bar
    the engine cancels its working orders and sells every holding at market through its fill
    model (a paused session's next bar comes when it resumes)."""
    from engine.core.portfolio import DUST  # on use: the portfolio's fills load with it

    session = _session(sql, session_id)
    key = str(session.id)
    state = _projected(sql, "session", key, session.status)
    if state not in CLOSABLE:
        raise NotAllowed(f"cannot close the position of session {session.id} "
                         f"({session.name}): it is {state}; only a running or paused session "
                         "trades")
    if sql.value("SELECT COUNT(*) FROM command WHERE status = ? AND target = 'session' AND "
                 "target_id = ? AND action = ?", CommandStatus.PENDING.value, key,
                 CLOSE_POSITION):
        raise NotAllowed(f"a close of session {session.id}'s position is already queued")
    if not sql.value("SELECT COUNT(*) FROM position WHERE session_id = ? AND qty > ?",
                     session.id, DUST):
        raise NotAllowed(f"session {session.id} ({session.name}) holds no position: nothing "
                         "to close")
    return queue_command(sql, "session", key, CLOSE_POSITION, {}, by)


def _changeable(sql: Sql, session_id: Any, what: str) -> SessionRow:
    session = _session(sql, session_id)
    state = _projected(sql, "session", str(session.id), session.status)
    if state in TERMINAL_SESSION:
        raise NotAllowed(f"cannot change the {what} of session {session.id}: it is {state}")
    return session


def set_session_speed(sql: Sql, session_id: Any, speed: Any, until: Any = None,
                      then: Any = None, by: str = "cli") -> int:
    """Queue a speed change: bars per second or `max`; `max` may stop at `until` (a bar
    time) and continue at `then` bars per second."""
    from engine.control import windows  # on use: the catalog loads with it

    parsed = windows.parse_speed(speed)
    session = _changeable(sql, session_id, "speed")
    if session.source == "live":
        raise NotAllowed(f"cannot change the speed of session {session.id}: a live session "
                         "follows its feed")
    payload: dict[str, Any] = {"speed": parsed}
    ff = windows.fast_forward(parsed, until, then, session.window_from, session.window_to)
    if ff:
        payload |= {"until": ff["ff_until"].isoformat(), "then": ff["ff_then"]}
    return queue_command(sql, "session", str(session.id), "speed", payload, by)


def update_session_config(sql: Sql, session_id: Any, changes: dict[str, Any],
                          by: str = "cli") -> int:
    """Queue a settings change from the next bar on: strategy parameters by name, or
    fee_bps, slippage_bps, position_size, stop_loss_pct, take_profit_pct."""
    # On use: the session fields and the strategies' registry, which the other commands do
    # without.
    from engine.control.session_spec import RISK_FIELDS, SESSION_FIELDS
    from engine.registry import strategies

    changes = mapping(changes, "config")
    if not changes:
        raise BadInput("config needs at least one KEY=VALUE")
    session = _changeable(sql, session_id, "settings")
    strategy = strategies.lookup(session.strategy)
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
    return queue_command(sql, "session", str(session.id), "configure", payload, by)


def command_result(sql: Sql, command_id: int) -> CommandResult:
    found = sql.rows("SELECT id, status, message FROM command WHERE id = ?", command_id)
    if not found:
        raise NotFound(f"no command {command_id}")
    return CommandResult(*found[0])


def wait_for(read: Callable[[], CommandResult], command_id: int, timeout: float,
             poll: float = 0.05) -> CommandResult:
    """Poll `read` (this command's result) until the engine has handled `command_id`; raise
    if it was rejected, failed or is late."""
    deadline = time.monotonic() + timeout
    while True:
        result = read()
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
