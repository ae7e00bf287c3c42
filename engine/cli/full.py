"""The CLI commands that load the ORM and pandas (engine.control.actions, engine.reads.queries
and the modules they need): run, session create/reconcile/fill-models/robustness/report/export,
sweep, strategies reload, news, data; and every command on an in-memory database (the read
commands of engine.cli.reads then read through SQLAlchemy's connection)."""

import sys
from dataclasses import asdict
from typing import NoReturn

from engine.cli import data as cli_data
from engine.cli import news as cli_news
from engine.cli import reads as cli_reads
from engine.cli import robust as cli_robust
from engine.cli import strategies as cli_strategies
from engine.cli import sweep as cli_sweep
from engine.cli.lazy import OnUse
from engine.cli.output import emit_json
from engine.config import Settings, load_settings
from engine.core.fill_models import FILL_FIELDS
from engine.core.settings import FAST_FORWARD
from engine.errors import BadInput
from engine.params import parse_assignments
from engine.store.db import get_engine, migrate
from engine.store.plainsql import reading

control = OnUse("engine.control.actions")  # the ORM and pandas, on use
queries = OnUse("engine.reads.queries")


def cmd_status(db, args) -> None:
    """`status` on an in-memory database (a file or PostgreSQL takes engine.cli.fast's path)."""
    from engine.cli.fast import print_status

    print_status(db, args.json)


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
SESSION_COMMANDS = {"create": _create, "reconcile": _reconcile, "fill-models": _fill_models,
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
    "run": cmd_run, "status": cmd_status, "session": cmd_session, "sweep": cli_sweep.cmd_sweep,
    "strategies": cmd_strategies, "news": cli_news.cmd_news,
    "data": cli_data.cmd_data,
}


def run(settings: Settings, args) -> int | None:
    """Run one of COMMANDS on the database (migrated first, except for `run`, which does it)."""
    db = get_engine(settings.database_url)
    if args.command != "run":
        migrate(db)
    read = cli_reads.command(args)  # on an in-memory database (engine.cli.fast reads the rest)
    if read is not None:
        with reading(db) as sql:
            return read(sql, args)
    return COMMANDS[args.command](db, args)
