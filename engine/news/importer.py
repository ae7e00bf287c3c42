"""`python -m engine news import PATH`: a CSV of dated headlines (`headline,symbol,time`), scored
and stored all or nothing, with its provenance (file name, sha256, rows, who and when).

The first bad row refuses the whole file, naming the row and why; importing the same file
again stores nothing. A headline already stored (the same symbol, text and time) is kept once.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from engine.errors import BadInput
from engine.news.scores import ScoredHeadline, store_scores
from engine.news.scoring import score_headline
from engine.params import actor
from engine.store.db import session_scope
from engine.store.news import NewsImport

COLUMNS = ("headline", "symbol", "time")
MAX_HEADLINE = 1000  # characters
SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,31}")
SOURCE = "import"


@dataclass(frozen=True)
class NewsImportResult:
    import_id: int
    file_name: str
    sha256: str
    rows: int  # headlines stored by this import
    already: bool  # the same file was imported before: nothing stored


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {text.strip()[:40]!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ValueError(f"time {text.strip()[:40]!r} needs a timezone (e.g. Z or +00:00)")
    return value.astimezone(UTC)


def _headline(row: dict, number: int, line: int) -> tuple[str, str, datetime]:
    """(headline, symbol, time) of one row, or BadInput naming the row and why."""
    try:
        if None in row or any(row.get(c) is None for c in COLUMNS):
            raise ValueError(f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)})")
        text = row["headline"].strip()
        if not text or not text.isprintable() or len(text) > MAX_HEADLINE:
            raise ValueError(f"headline must be one line of 1 to {MAX_HEADLINE} printable "
                             "characters")
        symbol = row["symbol"].strip().upper()
        if not SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol {row['symbol'].strip()[:40]!r} is not a symbol "
                             "(letters, digits, . and -)")
        return text, symbol, _time(row["time"])
    except ValueError as exc:
        raise BadInput(f"row {number} (line {line}): {exc}") from None


def read_news_csv(data: bytes) -> list[tuple[str, str, datetime]]:
    """Every row of a headline file, checked; BadInput names the first bad one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"file: not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BadInput(f"header: the file needs the columns {','.join(COLUMNS)} "
                       f"(missing {', '.join(missing)})")
    reader.fieldnames = header
    try:
        rows = [_headline(row, n, reader.line_num) for n, row in enumerate(reader, 1)]
    except csv.Error as exc:
        raise BadInput(f"line {reader.line_num}: not CSV ({exc})") from None
    if not rows:
        raise BadInput("file: no headlines (only a header)")
    return rows


def import_news(db: Engine, path: Path, by: str = "cli") -> NewsImportResult:
    """Score and store the headline file at `path` in one transaction."""
    by = actor(by)
    if not path.is_file():
        raise BadInput(f"PATH: no file at {str(path)!r}")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    with session_scope(db) as s:
        done = s.execute(select(NewsImport).where(NewsImport.sha256 == sha256)).scalar()
        if done is not None:
            return NewsImportResult(done.id, done.file_name, sha256, 0, already=True)
    rows = read_news_csv(data)
    items = [ScoredHeadline(symbol, at, True, score_headline(text), text, SOURCE)
             for text, symbol, at in rows]
    with session_scope(db) as s:
        record = NewsImport(file_name=path.name[:255], sha256=sha256, rows=0,
                            symbols=",".join(sorted({i.symbol for i in items}))[:200],
                            first_at=min(i.known_at for i in items),
                            last_at=max(i.known_at for i in items), imported_by=by)
        s.add(record)
        s.flush()
        record.rows = store_scores(s, items, import_id=record.id)
        return NewsImportResult(record.id, record.file_name, sha256, record.rows, already=False)
