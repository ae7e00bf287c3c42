"""The act API of the user's own market data, shared by `python -m engine data` and the
dashboard's upload: import a file's bytes (all or nothing), remove a dataset, and the lines
that say what an import did."""

from pathlib import Path

from sqlalchemy import Engine

from engine.core.bars import max_gap
from engine.errors import BadInput, NotFound, shown
from engine.market import imports
from engine.market.imports import ImportResult

UPLOAD_MAX_MB = 50  # the dashboard's upload cap (the CLI reads files of any size)
GAPS_SHOWN = 3


def import_path(db: Engine, path: str, symbol: str, timeframe: str, asset_class: str,
                replace: bool, who: str) -> ImportResult:
    """Import a file the operator named on the command line (any size)."""
    file = Path(path)
    if not file.is_file():
        raise NotFound(f"PATH: no file at {shown(path, 300)}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"PATH: cannot read {shown(path, 300)} ({exc.strerror})") from None
    return imports.import_dataset(db, data, file.name, symbol, timeframe, asset_class,
                                  replace, who)


def import_upload(db: Engine, data: bytes, file_name: str, symbol: str, timeframe: str,
                  asset_class: str, replace: bool, who: str) -> ImportResult:
    """An upload from the dashboard: the same import, within the size cap."""
    if len(data) > UPLOAD_MAX_MB * 2**20:
        raise BadInput(f"file: {len(data) / 2**20:.0f} MB is over the upload cap of "
                       f"{UPLOAD_MAX_MB} MB; import a larger file with python -m engine data "
                       "import")
    return imports.import_dataset(db, data, file_name, symbol, timeframe, asset_class,
                                  replace, who)


def remove_data(db: Engine, symbol: str, timeframe: str) -> int:
    return imports.remove_dataset(db, symbol, timeframe)


def report_lines(result: ImportResult) -> list[str]:
    """What an import did, a line per fact (the CLI prints them, the dashboard shows them)."""
    d = result.dataset
    if result.unchanged:
        return [f"{d.symbol} {d.timeframe}: this file (sha256 {d.sha256[:12]}) is already "
                "imported; nothing changed"]
    verb = "replaced" if result.replaced else "imported"
    lines = [f"{verb} {d.symbol} {d.timeframe} ({d.asset_class}) from {result.kind} "
             f"{shown(d.file_name)}: {d.rows:,} bars {d.first_ts:%Y-%m-%d %H:%M} – "
             f"{d.last_ts:%Y-%m-%d %H:%M} UTC, sha256 {d.sha256[:12]}"]
    if result.naive_times:
        lines.append("times without a zone were read as UTC")
    if result.descending:
        lines.append("the file lists bars newest first; stored oldest first")
    if result.gaps:
        shown_gaps = ", ".join(f"{g.after:%Y-%m-%d %H:%M} → {g.before:%Y-%m-%d %H:%M}"
                               for g in result.gaps[:GAPS_SHOWN])
        more = f" and {len(result.gaps) - GAPS_SHOWN} more" if len(result.gaps) > GAPS_SHOWN \
            else ""
        lines.append(f"{len(result.gaps)} gap(s) longer than "
                     f"{max_gap(d.asset_class, d.timeframe)} (reported, not filled in): "
                     f"{shown_gaps}{more}")
    return lines
