"""The news tables (beside engine.store.models): every headline score with its symbol and the
time it became known, and the provenance of each imported headline file."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime, utcnow


class NewsImport(SQLModel, table=True):
    """One imported headline file (`python -m engine news import`)."""

    __tablename__ = "news_import"
    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(sa_type=String(255), description="the file's name, without folders")
    sha256: str = Field(sa_type=String(64), unique=True, description="of the file's bytes")
    rows: int = Field(description="headlines stored")
    symbols: str = Field(sa_type=String(200), description="comma-separated symbols")
    first_at: datetime = Field(sa_type=UTCDateTime, description="earliest headline time")
    last_at: datetime = Field(sa_type=UTCDateTime, description="latest headline time")
    imported_by: str = Field(sa_type=String(100))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NewsScore(SQLModel, table=True):
    """One headline's score for one symbol, known from `known_at` on (its publish time; the
    poll time for an undated item)."""

    __tablename__ = "news_score"
    __table_args__ = (Index("ix_news_score_symbol_known", "symbol", "known_at"),
                      Index("ix_news_score_digest", "symbol", "digest"))
    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(sa_type=String(32))
    known_at: datetime = Field(sa_type=UTCDateTime)
    dated: bool = Field(description="known_at is the publish time (else the poll time)")
    score: float = Field(description="-1 (bearish) .. +1 (bullish)")
    headline: str = Field(sa_type=Text)
    digest: str = Field(sa_type=String(64), description="sha256 of the headline (dedup)")
    source: str = Field(sa_type=String(16), description="rss, csv or import")
    import_id: int | None = Field(default=None, foreign_key="news_import.id", index=True)
    stored_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
