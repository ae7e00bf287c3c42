"""A `news` session's stored headline scores, read once per session load (the clock, reconcile,
sweeps and fast-forward all read the same series: engine.core.news looks a bar's score up)."""

from collections.abc import Iterable

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.core.news import NEWS, News, NewsSeries
from engine.core.settings import TradeSettings
from engine.core.trader import Trader
from engine.store.news import NewsScore


def read_news(s: Session, symbols: tuple[str, ...]) -> News:
    """Every stored score of `symbols`, by symbol (a symbol without one is absent)."""
    found: dict[str, tuple[list, list]] = {}
    rows = s.execute(select(NewsScore.symbol, NewsScore.known_at, NewsScore.score)
                     .where(NewsScore.symbol.in_(symbols))
                     .order_by(NewsScore.symbol, NewsScore.known_at, NewsScore.id))
    for symbol, known_at, score in rows:
        times, scores = found.setdefault(symbol, ([], []))
        times.append(known_at)
        scores.append(score)
    return {symbol: NewsSeries(*pair) for symbol, pair in found.items()}


def session_news(s: Session, settings: TradeSettings) -> News | None:
    """The scores a session with `settings` reads: its symbols' if it trades on news."""
    return read_news(s, settings.symbols) if settings.sentiment == NEWS else None


def load_news(db: Engine, settings: TradeSettings) -> News | None:
    """`session_news` in a short database session of its own."""
    if settings.sentiment != NEWS:
        return None
    with Session(db) as s:
        return session_news(s, settings)


def refresh_live_news(db: Engine, traders: Iterable[Trader], seen: int | None) -> int | None:
    """Give live `news` sessions' traders the scores stored since `seen` (the newest score id
    they were given); return the newest id now. Replay sessions keep the series they were
    loaded with (their bars' news is history)."""
    reading = [t for t in traders if t.settings.sentiment == NEWS]
    if not reading:
        return seen
    with Session(db) as s:
        newest = s.execute(select(func.max(NewsScore.id))).scalar()
        if newest != seen:
            for trader in reading:
                trader.use_news(read_news(s, trader.settings.symbols))
    return newest
