"""`python -m engine sweep create|show|cancel|list|archive|graduate`: sweeps from the command line.

`add_parser` adds the subcommand to the CLI's parser (it imports nothing but the standard
library, so the CLI's fast path stays light); `cmd_sweep` runs it on the ORM path, importing
engine.control.sweeps when called."""

import argparse
import importlib
import sys
import time

from engine.cli.args import sweep_wait_seconds
from engine.cli.output import emit_json, odds_text
from engine.cli.walk_output import walk_document, walk_text
from engine.errors import BadInput, WaitTimeout
from engine.params import parse_assignments
from engine.reads.records import SweepDocument

POLL_S = 0.5


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `sweep` to the CLI's subparsers."""
    sweep = subparsers.add_parser("sweep", help="grids of a strategy's variants")
    sweep.add_argument("action", choices=tuple(COMMANDS))
    sweep.add_argument("id", nargs="?", help="show/cancel/archive/report/graduate-rule: "
                       "sweep ID; graduate: the variant's session ID")
    sweep.add_argument("--json", action="store_true")
    sweep.add_argument("--wait", type=sweep_wait_seconds, metavar="SECONDS",
                       help="create: wait until the sweep has finished (0: do not wait)")
    sweep.add_argument("--name")
    sweep.add_argument("--strategy")
    sweep.add_argument("--symbols")
    sweep.add_argument("--timeframe")
    sweep.add_argument("--cash")
    sweep.add_argument("--position-size")
    sweep.add_argument("--sentiment", help="every variant's sentiment input: news, price-mood "
                                           "(default) or none")
    sweep.add_argument("--param", action="append", default=[], metavar="K=RANGE",
                       help="a dimension: fast=5:20:5 (start:stop:step), slow=30,50 or one "
                       "value; also fill_model=…, fee_bps=…, slippage_bps=…")
    sweep.add_argument("--fill-model", help="the preset every variant uses (unless a "
                       "--param fill_model=… varies it)")
    sweep.add_argument("--from", dest="window_from", metavar="DATE")
    sweep.add_argument("--to", dest="window_to", metavar="DATE", help="create: last bar of "
                       "the window; graduate-rule: last bar a replay session trades")
    sweep.add_argument("--split", metavar="DATE", help="first bar of the out-of-sample window")
    sweep.add_argument("--walk-forward", metavar="train=N,test=M[,step=S][,anchored]",
                       help="per fold pick the best variant on N bars, trade it on the next M")
    sweep.add_argument("--objective", help="walk-forward: sharpe (default), total_return or "
                       "calmar")
    sweep.add_argument("--all", action="store_true", help="list: include archived sweeps")
    sweep.add_argument("--top", type=int, default=20, help="show: variants listed")
    sweep.add_argument("--source", default="replay", help="graduate, graduate-rule: replay "
                       "or live")
    sweep.add_argument("--speed", default="1", help="graduate, graduate-rule: bars/s after "
                       "the window")
    sweep.add_argument("--out", metavar="FILE", help="report: the HTML file to write")
    return sweep


def _spec(args) -> dict:
    if not args.strategy or not args.symbols:
        raise BadInput("sweep create needs --strategy and --symbols")
    if not args.param:
        raise BadInput("sweep create needs at least one --param K=RANGE")
    return {"name": args.name, "strategy": args.strategy, "symbols": args.symbols,
            "timeframe": args.timeframe, "cash": args.cash, "position_size": args.position_size,
            "sentiment": args.sentiment, "fill_model": args.fill_model,
            "from": args.window_from, "to": args.window_to,
            "split": args.split, "grid": parse_assignments(args.param, "--param K=RANGE"),
            "walk_forward": args.walk_forward, "objective": args.objective}


def _wait(queries, db, sweep_id: int, seconds: float) -> SweepDocument:
    deadline = time.monotonic() + seconds
    while True:
        doc = queries.sweep_document(db, sweep_id)
        print(f"sweep {sweep_id}: {doc.status}, {doc.done}/{doc.total} variants",
              file=sys.stderr)
        if doc.status not in ("queued", "running"):
            return doc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"sweep {sweep_id} still {doc.status} after {seconds:g}s "
                              f"({doc.done}/{doc.total} variants); it goes on")
        time.sleep(POLL_S)


def _show(queries, db, args) -> None:
    doc = queries.sweep_document(db, args.id)
    ranked = queries.variants(db, args.id)
    odds = importlib.import_module("engine.reads.overfitting").overfitting_odds(db, args.id)
    walk = importlib.import_module("engine.reads.walk_forward").walk_forward(db, args.id)
    if args.json:
        emit_json({**doc.as_dict(), "variants": ranked.to_dict("records"), "overfitting": odds,
                   "walk_forward": walk_document(walk)})
        return
    print(f"sweep {doc.id} ({doc.name}): {doc.status}, {doc.done}/{doc.total} "
          f"variants of {doc.strategy} on {', '.join(doc.symbols)} {doc.timeframe}, "
          f"{doc.window_from} – {doc.window_to}"
          + (f", split {doc.split_at:%Y-%m-%d %H:%M}" if doc.split_at else ""))
    if not ranked.empty:
        print(ranked.head(args.top).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(odds_text(odds))
    if walk is not None:
        print(walk_text(walk))


def _create(sweeps, queries, db, args) -> None:
    created = sweeps.create_sweep(db, _spec(args))
    doc = _wait(queries, db, created.id, args.wait) if args.wait else None
    if args.json:
        emit_json((doc or queries.sweep_document(db, created.id)).as_dict())
    else:
        print(created.id)


def _list(_sweeps, queries, db, args) -> None:
    frame = queries.sweeps(db, include_archived=args.all)
    if args.json:
        emit_json(frame)
    else:
        print(frame.to_string(index=False) if not frame.empty else "(none)")


def _cancel(sweeps, _queries, db, args) -> None:
    print(sweeps.cancel_sweep(db, args.id).message)


def _archive(sweeps, _queries, db, args) -> None:
    print(sweeps.archive_sweep(db, args.id).message)


def _graduate(sweeps, _queries, db, args) -> None:
    print(sweeps.start_as_paper(db, args.id, source=args.source, speed=args.speed).id)


def _graduate_rule(_sweeps, _queries, db, args) -> None:
    walk_paper = importlib.import_module("engine.control.walk_paper")
    print(walk_paper.start_walk_forward(db, args.id, source=args.source, speed=args.speed,
                                        to=args.window_to).id)


def _report(_sweeps, _queries, db, args) -> None:
    if not args.out:
        raise BadInput("sweep report needs --out FILE")
    report = importlib.import_module("engine.reads.report.sweep")
    print(report.write_sweep_report(db, args.id, args.out))


COMMANDS = {"create": _create, "show": lambda _s, q, db, args: _show(q, db, args),
            "list": _list, "cancel": _cancel, "archive": _archive, "graduate": _graduate,
            "graduate-rule": _graduate_rule, "report": _report}


def cmd_sweep(db, args) -> None:
    """Run `python -m engine sweep ACTION` (exit codes as for every command)."""
    if args.action not in ("create", "list") and args.id is None:
        raise BadInput(f"sweep {args.action} needs an ID")
    COMMANDS[args.action](importlib.import_module("engine.control.sweeps"),
                          importlib.import_module("engine.reads.sweeps"), db, args)
