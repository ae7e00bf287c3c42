"""The CLI commands that read through the ORM and pandas (engine.control.actions,
engine.reads.queries,
engine.reads.status): health, agents, agent show, sessions, session show/trades/create/reconcile,
events, run, and status on PostgreSQL."""

import importlib
import sys
from dataclasses import asdict
from typing import Any, NoReturn

from engine.cli import data as cli_data
from engine.cli import news as cli_news
from engine.cli import robust as cli_robust
from engine.cli import strategies as cli_strategies
from engine.cli import sweep as cli_sweep
from engine.cli.output import emit_json, shown_value
from engine.config import Settings, load_settings
from engine.core.fill_models import FILL_FIELDS
from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput, single_line
from engine.params import parse_assignments
from engine.store.db import get_engine, migrate


class _OnUse:
    """A module imported when a command first uses it, so the CLI starts without pandas and
    the API it does not need."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


control = _OnUse("engine.control.actions")
queries = _OnUse("engine.reads.queries")
status = _OnUse("engine.reads.status")  # what status, health and agent show read: no pandas


def _table(frame, columns: list[str]) -> None:
    if frame.empty:
        print("(none)")
        return
    print(frame[[c for c in columns if c in frame]].to_string(
        index=False, float_format=lambda v: f"{v:,.2f}"))


def cmd_status(db, args) -> None:
    """`status` on an in-memory database (a file or PostgreSQL takes engine.cli.fast's path)."""
    from engine.cli.fast import print_status

    print_status(db, args.json)


def cmd_health(db, args) -> None:
    report = status.health(db)
    if args.json:
        emit_json(status.as_dict(report))
        return
    print(f"health: {report.score:.0f}%  ({report.formula})")
    print(f"engine online: {report.engine_online}; errors in the last hour: "
          f"{report.errors_last_hour}; agents running {report.agents_running}/"
          f"{report.agents_total}")


def cmd_agents(db, args) -> None:
    frame = queries.agents(db)
    if args.json:
        emit_json(frame)
    else:
        _table(frame.assign(status=frame["condition"]),  # the word every surface shows
               ["id", "status", "ticks", "items_processed", "errors", "last_tick_ms",
                "last_active_at"])


def _document(record, as_json: bool) -> None:
    """Print a typed record of engine.reads: a JSON document, or a line per field."""
    if as_json:
        emit_json(record)
        return
    fields = asdict(record)
    if "condition" in fields:  # an agent or a session: its word first, as the dashboard shows it
        word = fields.pop("condition")
        fields = {"status": word, "lifecycle_status": fields.pop("status"), **fields}
    for key, value in fields.items():
        print(f"{key}: {shown_value(key, value)}")


def cmd_agent_show(db, args) -> None:
    _document(status.agent(db, args.id), args.json)


def cmd_sessions(db, args) -> None:
    frame = queries.sessions(db, include_archived=args.all, include_sweeps=args.all)
    if args.json:
        emit_json(frame)
    else:
        _table(frame.assign(status=frame["condition"]),  # the word every surface shows
               ["id", "name", "status", "strategy", "symbols", "timeframe", "equity",
                "return_pct", "trade_count", "why"])


def _create(db, args) -> None:
    missing = [f"--{n}" for n in ("name", "symbols", "strategy") if not getattr(args, n)]
    if missing:
        raise BadInput(f"session create needs {', '.join(missing)}")
    spec = {
        "name": args.name, "symbols": args.symbols, "strategy": args.strategy,
        "cash": args.cash, "timeframe": args.timeframe,
        "params": parse_assignments(args.param, "--param K=V"),
        **{f: getattr(args, f) for f in ("fill_model", *FILL_FIELDS)},
        "position_size": args.position_size, "stop_loss_pct": args.stop_loss_pct,
        "take_profit_pct": args.take_profit_pct, "restart_policy": args.restart_policy,
        "sentiment": args.sentiment,
        "source": args.source, "from": args.window_from, "to": args.window_to,
        "speed": args.speed, "until": args.until, "then": args.then,
    }
    given = {k: v for k, v in spec.items() if v is not None}  # the rest takes its default
    created = control.create_session(db, given, start=args.start)
    if created.queued and args.wait:
        control.wait_for(db, created, args.wait)
        if str(args.speed).strip().lower() == FAST_FORWARD:  # … until its fast-forward ends
            control.wait_for_session(db, created.id, args.wait, progress=_progress)
    if args.json:
        emit_json(queries.session_document(db, created.id))
    else:
        print(created.id)


def _show_session(db, args) -> None:
    _document(queries.session_document(db, args.id), args.json)


def _trades(db, args) -> None:
    frame = queries.trades(db, args.id, limit=None)
    if args.json:
        emit_json(frame)
    else:
        _table(frame, ["time", "symbol", "side", "qty", "price", "fee", "order_id", "reason"])


def _fill_models(db, args) -> None:
    from engine.reads.fill_compare import compare_fill_models

    runs = compare_fill_models(db, args.id)
    if args.json:
        emit_json([{k: v for k, v in asdict(r).items() if k != "curve"} for r in runs])
        return
    for r in runs:
        print(f"{r.model:<12} return {r.return_pct:+.2f}%  max drawdown {r.max_drawdown_pct:.2f}%"
              f"  fills {r.fills:,} ({r.partial_orders:,} orders in parts)  fees {r.fees:,.2f}")
        print(f"{'':<12} {r.description.split(': ', 1)[1]}")


def _progress(doc: dict) -> None:
    total = doc.bars_total or 0
    print(f"session {doc.id}: {doc.condition}, bar {doc.bars_done:,}/{total:,}",
          file=sys.stderr)


def _reconcile(db, args) -> None:
    from engine.reads.reconcile import reconcile

    result = reconcile(db, args.id)
    if args.json:
        emit_json(asdict(result))
        return
    print(f"session {result.session_id}: {result.match_pct:.1f}% of fills match a fast-forward"
          f" of its window ({result.matched} matched; {result.expected} expected, "
          f"{result.actual} actual, {result.bars:,} bars; settings {result.settings})")
    for d in result.differences:
        print(f"{d.kind:<9} {d.bar_ts:%Y-%m-%d %H:%M} {d.symbol} {d.side}: "
              f"{d.cause}")


def cmd_events(db, args) -> None:
    frame = queries.events(db, limit=args.limit,
                           severity=[args.severity] if args.severity else None,
                           source=args.source)
    if args.json:
        emit_json(frame)
    else:
        for row in frame.itertuples():  # one line each, whatever a message holds
            print(f"{row.ts:%Y-%m-%d %H:%M:%S} {row.severity:<7} {single_line(row.source):<14} "
                  f"{single_line(row.message)}")


def cmd_run(_db, _args) -> NoReturn:
    import logging
    import os

    from engine.fleet.runtime import EngineProcess

    code = EngineProcess(load_settings()).run()
    # Leave now: a tick still blocked on a network call (it has its own timeout) must not
    # hold the process after a stop. Everything is committed and the lease released.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# The session actions that read or create; the others are engine.cli.fast's.
SESSION_COMMANDS = {"create": _create, "show": _show_session, "trades": _trades,
                    "reconcile": _reconcile, "fill-models": _fill_models,
                    **cli_robust.SESSION_COMMANDS}


def cmd_session(db, args) -> None:
    SESSION_COMMANDS[args.action](db, args)


def cmd_strategies(db, args) -> None:
    """`strategies reload`: the engine loads PAPERDESK_HOME/strategies again."""
    if args.json:
        raise BadInput("--json is for the list, not reload")
    outcome = control.reload_strategies(db)
    wait = args.wait if args.wait is not None else cli_strategies.RELOAD_WAIT_S
    result = control.wait_for(db, outcome, wait) if wait else None
    print(result.message if result is not None and result.message else outcome.message)


COMMANDS = {
    "run": cmd_run, "status": cmd_status, "health": cmd_health, "agents": cmd_agents,
    "agent": cmd_agent_show, "sessions": cmd_sessions, "session": cmd_session, "events": cmd_events,
    "sweep": cli_sweep.cmd_sweep, "strategies": cmd_strategies, "news": cli_news.cmd_news,
    "data": cli_data.cmd_data,
}


def run(settings: Settings, args) -> int | None:
    """Run one of COMMANDS on the database (migrated first, except for `run`, which does it)."""
    db = get_engine(settings.database_url)
    if args.command != "run":
        migrate(db)
    return COMMANDS[args.command](db, args)
