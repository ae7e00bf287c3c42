"""The CLI commands that start fast: `status`, `logs`, the read commands of engine.cli.reads
(health, agents, agent show, sessions, session show/trades, events) and every control command
(system, agent start/stop/reset-metrics/config, session start/pause/resume/stop/…-all/speed/
config/close-position). They run on plain SQL (engine.store.plainsql, engine.reads.plain,
engine.control.queueing) and import neither the ORM, pandas nor Alembic; only a database that
is not at the newest migration loads Alembic, to migrate it."""

from dataclasses import asdict

from engine.cli import reads
from engine.cli.lazy import OnUse
from engine.cli.output import emit_json, show_status
from engine.config import Settings
from engine.errors import BadInput
from engine.params import parse_assignments
from engine.store.plainsql import DriverSql, connect, head_revision, sqlite_file

queueing = OnUse("engine.control.queueing")  # for the control commands
fleet = OnUse("engine.reads.fleet")  # for status
summary = OnUse("engine.reads.summary")  # for status and logs

SESSION_CONTROL = {"start", "pause", "resume", "stop", "pause-all", "resume-all", "stop-all",
                   "speed", "config", "close-position"}


def handles(args, url: str) -> bool:
    """Whether this command runs here: on a SQLite file or PostgreSQL."""
    if url.startswith("sqlite") and sqlite_file(url) is None:
        return False
    return (args.command in ("status", "logs", "system") or reads.command(args) is not None
            or (args.command == "agent" and args.action != "show")
            or (args.command == "session" and args.action in SESSION_CONTROL))


def _migrate(settings: Settings) -> None:
    from engine.store.db import get_engine, migrate  # on use: only a database not at HEAD needs it

    migrate(get_engine(settings.database_url))


def run(settings: Settings, args) -> None:
    """Run the command on its own connection, migrating first a database not at HEAD."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.is_file():
        _migrate(settings)  # a control command on a new home creates the database
    with connect(settings.database_url) as sql:
        if sql.schema_version() != head_revision():
            _migrate(settings)
        read = reads.command(args)
        if read is not None:
            with sql.unit():
                read(sql, args)
        else:
            COMMANDS[args.command](sql, settings, args)


def print_status(source, as_json: bool) -> None:
    """Print `status` read from `source` (an `Sql` in its unit of work, or an engine)."""
    report = asdict(summary.system_summary(source))
    running = fleet.workers(source)
    lines = fleet.status_lines(source) if running and not as_json else []
    if as_json:
        emit_json({**report, "workers": [asdict(w) for w in running]})
        return
    show_status(report, False)
    for line in lines:
        print(line)


def cmd_status(sql: DriverSql, _settings: Settings, args) -> None:
    with sql.unit():
        print_status(sql, args.json)


def cmd_logs(sql: DriverSql, settings: Settings, args) -> None:
    with sql.unit():
        found = summary.log_tail(sql, settings.logs_dir, args.id, lines=args.lines,
                                 level=args.level, grep=args.grep)
    for line in found.lines:
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
    if action == "close-position":
        return (queueing.close_position(sql, args.id),
                f"session {args.id}: position closed at the next bar")
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
    if not args.wait:  # none, or 0: do not wait
        print(f"queued as command {command_id}")
        return

    def read() -> queueing.CommandResult:
        with sql.unit():
            return queueing.command_result(sql, command_id)

    print(queueing.wait_for(read, command_id, args.wait).message or done)


COMMANDS = {"status": cmd_status, "logs": cmd_logs, "system": cmd_control,
            "agent": cmd_control, "session": cmd_control}
