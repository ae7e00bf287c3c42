"""Sentiment agent: scores headlines per symbol — each stored once with the time it became known
(engine.news.scores), what `news` sessions trade on — and publishes each symbol's latest
figure: the headlines' mean, or the price-derived mood without news."""

import urllib.request
from datetime import UTC, datetime, timedelta

import feedparser
from sqlalchemy import insert

from engine.agents.base import BaseAgent
from engine.core.news import MOOD_WINDOW
from engine.errors import TransientError
from engine.market import catalog
from engine.market.bars import last_bars
from engine.news.feeds import is_url, local_file
from engine.news.scores import ScoredHeadline, store_scores
from engine.news.scoring import (
    Headline,
    label,
    mentions,
    price_mood,
    read_headlines_csv,
    score_headline,
)
from engine.registry.agents import SPECS
from engine.store.db import session_scope
from engine.store.models import SentimentScore

TOP_HEADLINES = 5
FEED_TIMEOUT_S = 10


def read_feed(location: str) -> bytes:
    """Fetch a feed with a timeout (feedparser's own fetch has none), or read a file from the
    feeds folder; feedparser only ever parses the bytes."""
    if not is_url(location):
        return local_file(location, "rss_feeds").read_bytes()
    try:
        with urllib.request.urlopen(location, timeout=FEED_TIMEOUT_S) as response:  # noqa: S310
            return response.read()
    except OSError as exc:
        raise TransientError(f"RSS feed {location}: {exc}") from exc


def _feed_time(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


class SentimentAgent(BaseAgent):
    spec = SPECS["sentiment"]

    def on_start(self) -> None:
        self.latest: dict[str, dict] = {}
        self.feed_failures: set[str] = set()
        self.csv_skipped: list[str] = []

    def _symbols(self) -> dict[str, str]:
        """Each symbol with the timeframe its mood is computed on (hourly when there is one)."""
        chosen: dict[str, str] = {}
        for symbol, timeframe in catalog.datasets():
            if chosen.get(symbol) != "1h":
                chosen[symbol] = timeframe
        return chosen

    def _rss(self) -> list[Headline]:
        headlines = []
        for url in filter(None, (u.strip() for u in self.cfg["rss_feeds"].split(","))):
            feed = feedparser.parse(read_feed(url))
            if feed.bozo and not feed.entries:
                if url not in self.feed_failures:
                    self.feed_failures.add(url)
                    self.event("feed_error", f"RSS feed {url} unreadable: {feed.bozo_exception}",
                               "warning")
                continue
            self.feed_failures.discard(url)
            headlines += [
                Headline(e.get("title", "").strip(), None, _feed_time(e), "rss")
                for e in feed.entries if e.get("title")
            ]
        return headlines

    def _headlines(self) -> list[Headline]:
        found = self._rss()
        if self.cfg["headlines_csv"]:
            path = local_file(self.cfg["headlines_csv"], "headlines_csv")
            headlines, skipped = read_headlines_csv(path)
            if skipped and skipped != self.csv_skipped:
                self.event("headlines_skipped", f"headlines_csv {path.name}: skipped "
                           f"{len(skipped)} bad row(s): {'; '.join(skipped[:3])}", "warning")
            self.csv_skipped = skipped
            found += headlines
        return found

    def _score_symbol(self, symbol: str, timeframe: str, headlines: list[Headline],
                      polled: datetime, found: list[ScoredHeadline]) -> dict | None:
        """The symbol's figure to publish; each of its headlines' scores goes into `found`
        (an undated one as known at `polled`)."""
        mine = [h for h in headlines
                if (h.symbol == symbol if h.symbol else mentions(symbol, h.text))]
        scores = {h: score_headline(h.text) for h in mine}
        found += [ScoredHeadline(symbol, h.time or polled, h.time is not None, score, h.text,
                                 h.source) for h, score in scores.items()]
        bars = last_bars(self.db, symbol, timeframe, None, MOOD_WINDOW)
        now = bars[-1].ts if bars and not self.cfg["rss_feeds"] else polled
        since = now - timedelta(hours=self.cfg["lookback_hours"])
        relevant = [h for h in mine if h.time is None or since <= h.time <= now]
        if relevant:
            scored = sorted(((scores[h], h) for h in relevant), key=lambda pair: -abs(pair[0]))
            score = sum(s for s, _ in scored) / len(scored)
            return {
                "symbol": symbol, "score": round(score, 4), "label": label(score),
                "source": relevant[0].source, "item_count": len(relevant),
                "headlines": [{"text": h.text, "score": round(s, 4)}
                              for s, h in scored[:TOP_HEADLINES]],
            }
        mood = price_mood([b.close for b in bars])
        if mood is None:
            return None
        return {
            "symbol": symbol, "score": round(mood, 4), "label": f"mood: {label(mood)}",
            "source": "price-mood", "item_count": len(bars), "headlines": [],
        }

    def on_tick(self) -> int:
        headlines = self._headlines()
        now = datetime.now(UTC)
        found: list[ScoredHeadline] = []
        rows = [
            row for symbol, timeframe in self._symbols().items()
            if (row := self._score_symbol(symbol, timeframe, headlines, now, found))
        ]
        if rows or found:
            with session_scope(self.db) as s:
                store_scores(s, found)
                if rows:
                    s.execute(insert(SentimentScore), [{**r, "ts": now} for r in rows])
        if rows:
            self.latest = {r["symbol"]: r for r in rows}
        return len(rows)

    def summary(self) -> dict:
        return {
            "scores": {s: {"score": r["score"], "label": r["label"], "source": r["source"]}
                       for s, r in self.latest.items()},
        }
