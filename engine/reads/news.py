"""The stored news: each imported headline file with its provenance, and the scores by source."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.store.news import NewsImport, NewsScore


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


def news_store(db: Engine) -> NewsStore:
    with Session(db) as s:
        imports = [NewsFile(r.id, r.file_name, r.sha256, r.rows, r.symbols, r.first_at,
                            r.last_at, r.imported_by, r.imported_at)
                   for r in s.execute(select(NewsImport).order_by(NewsImport.id.desc()))
                   .scalars()]
        scores = dict(s.execute(select(NewsScore.source, func.count())
                                .group_by(NewsScore.source).order_by(NewsScore.source)).all())
    return NewsStore(imports, scores)
