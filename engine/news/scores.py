"""Store headline scores: each once, with its symbol and the time it became known.

A dated headline is the same item when its symbol, text and publish time are; an undated one
(an RSS entry without a date) when its symbol and text are — it became known when first
polled, and polling it again adds nothing."""

import hashlib
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlmodel import Session

from engine.store.news import NewsScore
from engine.store.types import utcnow

QUERY_CHUNK = 500  # digests per lookup, rows per insert (within any database's bound limit)


class ScoredHeadline(NamedTuple):
    symbol: str
    known_at: datetime  # the publish time, or the poll time of an undated item
    dated: bool
    score: float  # -1 (bearish) .. +1 (bullish)
    headline: str
    source: str  # rss, csv or import


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _key(symbol: str, text_digest: str, dated: bool, known_at: datetime) -> tuple:
    return (symbol, text_digest, known_at if dated else None)


def new_only(s: Session, items: list[ScoredHeadline]) -> list[dict]:
    """The rows of `items` not stored yet (nor repeated within `items`)."""
    rows = [{**item._asdict(), "digest": digest(item.headline)} for item in items]
    digests = sorted({r["digest"] for r in rows})
    seen = set()
    for start in range(0, len(digests), QUERY_CHUNK):
        seen.update(_key(*r) for r in s.execute(
            select(NewsScore.symbol, NewsScore.digest, NewsScore.dated, NewsScore.known_at)
            .where(NewsScore.digest.in_(digests[start:start + QUERY_CHUNK]))))
    fresh = []
    for row in rows:
        key = _key(row["symbol"], row["digest"], row["dated"], row["known_at"])
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh


def store_scores(s: Session, items: list[ScoredHeadline], import_id: int | None = None) -> int:
    """Insert the items not stored yet; return how many were."""
    fresh = new_only(s, items)
    now = utcnow()
    for start in range(0, len(fresh), QUERY_CHUNK):
        s.execute(insert(NewsScore), [{**r, "import_id": import_id, "stored_at": now}
                                      for r in fresh[start:start + QUERY_CHUNK]])
    return len(fresh)
