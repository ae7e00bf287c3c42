"""The CLI commands that start fast: `status`, `logs` and every control command (system, agent
start/stop/reset-metrics/config, session start/pause/resume/stop/…-all/speed/config). They run
on plain SQL (engine.plainsql, engine.queueing) and import neither the ORM, pandas nor Alembic;
only a database that is not at the newest migration loads Alembic, to migrate it."""

import socket
from datetime import UTC, datetime, timedelta

from engine import queueing
from engine.cli_base import show_status
from engine.config import Settings
from engine.errors import BadInput, NotFound
from engine.lifecycle import CommandStatus, OrderStatus, SystemStatus, allowed_actions
from engine.logs import check_log_id, tail
from engine.params import parse_assignments
from engine.plainsql import DriverSql, connect, head_revision, loaded_time, sqlite_file

ENGINE_LOG = "engine"
STALE_AFTER_S = 6.0  # as engine.lease: an engine whose heartbeat is older is offline
SESSION_CONTROL = {"start", "pause", "resume", "stop", "pause-all", "resume-all", "stop-all",
                   "speed", "config"}


def handles(args, url: str) -> bool:
    """Whether this command runs here: on a SQLite file or PostgreSQL, except `status` on
    PostgreSQL (its engine is a fleet of workers, engine.fleet, read through the ORM)."""
    sqlite = url.startswith("sqlite")
    if sqlite and sqlite_file(url) is None:
        return False
    return ((args.command == "status" and sqlite) or args.command in ("logs", "system")
            or (args.command == "agent" and args.action != "show")
            or (args.command == "session" and args.action in SESSION_CONTROL))


def _migrate(settings: Settings) -> None:
    from engine.db import get_engine, migrate  # on use: only a database not at HEAD needs it

    migrate(get_engine(settings.database_url))


def run(settings: Settings, args) -> None:
    """Run the command on its own connection, migrating first a database not at HEAD."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.is_file():
        _migrate(settings)  # a control command on a new home creates the database
    with connect(settings.database_url) as sql:
        if sql.schema_version() != head_revision():
            _migrate(settings)
        COMMANDS[args.command](sql, settings, args)


def _lease(sql: DriverSql, now: datetime) -> dict:
    """The engine lease as engine.lease.lease_info reports it."""
    found = sql.rows("SELECT holder, heartbeat_at, started_at, released, hostname, pid, "
                     "cpu_pct, rss_mb FROM engine_lease WHERE id = 1")
    if not found:
        return {"holder": None, "heartbeat_at": None, "age_s": None, "online": False,
                "started_at": None, "cpu_pct": 0.0, "rss_mb": 0.0}
    holder, heartbeat_at, started_at, released, hostname, pid, cpu_pct, rss_mb = found[0]
    heartbeat_at = loaded_time(heartbeat_at)
    age = (now - heartbeat_at).total_seconds()
    dead = bool(released) or age > STALE_AFTER_S
    if not dead and hostname == socket.gethostname():
        import psutil  # on use: only a holder on this host is checked for its process

        dead = not psutil.pid_exists(pid)
    return {"holder": holder, "heartbeat_at": heartbeat_at, "age_s": age, "online": not dead,
            "started_at": loaded_time(started_at), "cpu_pct": cpu_pct, "rss_mb": rss_mb}


def summary(sql: DriverSql) -> dict:
    """What engine.status.system_summary reports, as its `as_dict` gives it."""
    now = datetime.now(UTC)
    status = sql.value("SELECT status FROM system_state WHERE id = 1") or SystemStatus.STOPPED
    return {
        "status": str(status),
        "allowed": allowed_actions("system", status),
        "engine": _lease(sql, now),
        "agents": dict(sql.rows("SELECT status, COUNT(*) FROM agent GROUP BY status "
                                "ORDER BY status")),
        "sessions": dict(sql.rows("SELECT status, COUNT(*) FROM paper_session WHERE "
                                  "archived = ? GROUP BY status ORDER BY status", False)),
        "fills_last_hour": sql.value("SELECT COUNT(*) FROM fill WHERE ts >= ?",
                                     sql.stored_time(now - timedelta(hours=1))),
        "pending_orders": sql.value("SELECT COUNT(*) FROM trade_order WHERE status = ?",
                                    OrderStatus.PENDING.value),
        "pending_commands": sql.value("SELECT COUNT(*) FROM command WHERE status = ?",
                                      CommandStatus.PENDING.value),
    }


def cmd_status(sql: DriverSql, _settings: Settings, args) -> None:
    with sql.unit():
        show_status(summary(sql), args.json)


def cmd_logs(sql: DriverSql, settings: Settings, args) -> None:
    """Tail a log whose id is an agent in the database, `session-N` of a session, or engine."""
    log_id = args.id
    check_log_id(log_id)
    with sql.unit():
        if log_id.startswith("session-"):
            known = sql.value("SELECT 1 FROM paper_session WHERE id = ?",
                              int(log_id.removeprefix("session-")))
        else:
            known = log_id == ENGINE_LOG or sql.value("SELECT 1 FROM agent WHERE id = ?", log_id)
    if not known:
        raise NotFound(f"no agent or session {log_id!r}")
    for line in tail(settings.logs_dir, log_id, lines=args.lines, level=args.level,
                     grep=args.grep).lines:
        print(line)


def _agent_command(sql: DriverSql, args) -> int:
    if args.action == "config":
        return queueing.update_agent_config(sql, args.id, parse_assignments(args.assignments))
    if args.action == "reset-metrics":
        return queueing.reset_agent_metrics(sql, args.id)
    return queueing.agent_action(sql, args.id, args.action)


def _session_command(sql: DriverSql, args) -> tuple[int, str]:
    action = args.action
    if action.endswith("-all"):
        return queueing.bulk_session_action(sql, action.replace("-", "_")), f"{action} applied"
    if action == "speed":
        if len(args.values) != 1:
            raise BadInput("session speed needs ID and BARS_PER_S or max")
        return (queueing.set_session_speed(sql, args.id, args.values[0], until=args.until,
                                           then=args.then),
                f"session {args.id}: speed {args.values[0]}")
    if action == "config":
        return (queueing.update_session_config(sql, args.id, parse_assignments(args.values)),
                f"session {args.id}: settings changed")
    return (queueing.session_action(sql, args.id, action, close_positions=args.close_positions),
            f"session {args.id}: {action} applied")


def _queued(sql: DriverSql, args) -> tuple[int, str]:
    """Queue the command `args` asks for; return its id and what to say once it is applied."""
    if args.command == "system":
        return queueing.system_action(sql, args.action), f"system {args.action} applied"
    if args.command == "agent":
        return _agent_command(sql, args), f"agent {args.id}: {args.action} applied"
    return _session_command(sql, args)


def cmd_control(sql: DriverSql, _settings: Settings, args) -> None:
    with sql.unit():
        command_id, done = _queued(sql, args)
    if args.wait is None:
        print(f"queued as command {command_id}")
        return

    def read() -> queueing.CommandResult:
        with sql.unit():
            return queueing.command_result(sql, command_id)

    print(queueing.wait_for(read, command_id, args.wait).message or done)


COMMANDS = {"status": cmd_status, "logs": cmd_logs, "system": cmd_control,
            "agent": cmd_control, "session": cmd_control}
