"""`python -m engine data import|list|remove`: the user's own market data."""

import getpass

from engine.cli.output import emit_json
from engine.core.bars import ASSET_CLASSES, TIMEFRAMES
from engine.errors import BadInput, single_line


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "data", help="import, list or remove your own market data",
        description="import PATH --symbol SYM --timeframe TF: a CSV (plain or gzip) or Parquet "
                    "file of time,open,high,low,close,volume bars, checked all or nothing "
                    "(times without a zone are read as UTC). list [--json]: the imports with "
                    "their provenance. remove SYM TF: drop an import and its bars.")
    parser.add_argument("action", choices=("import", "list", "remove"))
    parser.add_argument("args", nargs="*", metavar="PATH | SYM TF")
    parser.add_argument("--symbol")
    parser.add_argument("--timeframe", choices=tuple(TIMEFRAMES))
    parser.add_argument("--asset-class", choices=ASSET_CLASSES, default="crypto",
                        help="drives the calendar (gaps, Sharpe's year) and fee defaults "
                             "(default crypto)")
    parser.add_argument("--replace", action="store_true",
                        help="replace an earlier import of SYM TF with a different file")
    parser.add_argument("--json", action="store_true")


def _import(db, args) -> None:
    from engine.control.datasets import import_path, report_lines

    if len(args.args) != 1 or not args.symbol or not args.timeframe:
        raise BadInput("data import needs PATH, --symbol and --timeframe")
    result = import_path(db, args.args[0], args.symbol, args.timeframe, args.asset_class,
                         args.replace, getpass.getuser())
    if args.json:
        emit_json(result)
    else:
        for line in report_lines(result):
            print(single_line(line))


def list_data(sql, args) -> None:
    """`data list` on `sql` (engine.store.plainsql.Sql): one of engine.cli.reads' commands."""
    from engine.reads.datasets import imported_datasets

    found = imported_datasets(sql)
    if args.json:
        emit_json(found)
        return
    if not found:
        print("(no imported datasets; shipped ones need no import)")
    for d in found:
        print(single_line(f"{d.symbol} {d.timeframe} {d.asset_class}  {d.rows:,} bars "
                          f"{d.first_ts:%Y-%m-%d %H:%M} – {d.last_ts:%Y-%m-%d %H:%M} UTC  "
                          f"{d.gaps} gap(s)  {d.file_name} sha256 {d.sha256[:12]}  by "
                          f"{d.imported_by} at {d.imported_at:%Y-%m-%d %H:%M} UTC"))


def _remove(db, args) -> None:
    from engine.control.datasets import remove_data

    if len(args.args) != 2:
        raise BadInput("data remove needs SYM TF")
    symbol, timeframe = args.args
    removed = remove_data(db, symbol, timeframe)
    print(single_line(f"removed {symbol} {timeframe} ({removed:,} bars)"))


def cmd_data(db, args) -> None:
    """`data import` and `data remove` (`data list` is one of engine.cli.reads' commands)."""
    {"import": _import, "remove": _remove}[args.action](db, args)
