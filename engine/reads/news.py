"""The stored news: each imported headline file with its provenance, and the scores by source.
In plain SQL (engine.store.plainsql): `news list` runs on the CLI's fast path."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.store.plainsql import Sql, loaded, reading


@dataclass(frozen=True)
class NewsFile:
    id: int
    file_name: str
    sha256: str
    rows: int  # headline scores it stored
    symbols: str
    first_at: datetime
    last_at: datetime
    imported_by: str
    imported_at: datetime


@dataclass(frozen=True)
class NewsStore:
    imports: list[NewsFile] = field(default_factory=list)  # newest first
    scores: dict[str, int] = field(default_factory=dict)  # scores stored by source


def news_store(source: Sql | Any) -> NewsStore:
    """Called with an `Sql` (the CLI's own connection) or an SQLAlchemy engine."""
    with reading(source) as sql:
        imports = [NewsFile(**loaded(r, times=("first_at", "last_at", "imported_at")))
                   for r in sql.records(
                       "SELECT id, file_name, sha256, rows, symbols, first_at, last_at, "
                       "imported_by, imported_at FROM news_import ORDER BY id DESC")]
        scores = dict(sql.rows("SELECT source, COUNT(*) FROM news_score GROUP BY source "
                               "ORDER BY source"))
    return NewsStore(imports, scores)
