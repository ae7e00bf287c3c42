"""Headline scoring (VADER + the project's finance word list) and the price-derived mood."""

import csv
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engine.core.indicators import RollingMood
from engine.errors import BadInput

# Valences on VADER's -4..+4 scale for market words plain VADER does not know (or misreads).
FINANCE_LEXICON: dict[str, float] = {
    "surge": 2.3, "surges": 2.3, "surged": 2.3, "surging": 2.3,
    "soar": 2.5, "soars": 2.5, "soared": 2.5, "soaring": 2.5,
    "rally": 2.0, "rallies": 2.0, "rallied": 2.0, "rallying": 2.0,
    "jump": 1.5, "jumps": 1.5, "jumped": 1.5, "gain": 1.5, "gains": 1.5,
    "inflow": 1.5, "inflows": 1.5, "bullish": 2.5, "breakout": 1.8, "upgrade": 1.8,
    "upgraded": 1.8, "beats": 1.5, "outperform": 1.8, "record-high": 2.0, "adoption": 1.2,
    "approval": 1.5, "approved": 1.5, "rebound": 1.5, "rebounds": 1.5, "recovery": 1.2,
    "bearish": -2.5, "plunge": -2.8, "plunges": -2.8, "plunged": -2.8, "tumble": -2.3,
    "tumbles": -2.3, "slump": -2.3, "slumps": -2.3, "selloff": -2.3, "sell-off": -2.3,
    "outflow": -1.5, "outflows": -1.5, "hack": -2.8, "hacked": -2.8, "exploit": -2.3,
    "halted": -1.8, "halts": -1.8, "halt": -1.8, "suspended": -1.8, "insolvency": -3.0,
    "insolvent": -3.0, "bankrupt": -3.0, "bankruptcy": -3.0, "default": -2.0,
    "downgrade": -1.8, "downgraded": -1.8, "misses": -1.5, "liquidation": -2.0,
    "liquidations": -2.0, "delisting": -2.5, "delisted": -2.5, "lawsuit": -1.8,
    "probe": -1.2, "crackdown": -2.0, "ban": -2.0, "bans": -2.0, "layoffs": -2.0,
}
POSITIVE, NEGATIVE = 0.05, -0.05
# Words that tie a headline to a symbol, for feeds that are not per symbol.
SYMBOL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "BTC-USD": ("bitcoin", "btc"),
    "ETH-USD": ("ethereum", "ether", "eth"),
    "AAPL": ("apple", "aapl", "iphone"),
    "MSFT": ("microsoft", "msft"),
    "IBM": ("ibm",),
    "GOOG": ("google", "alphabet", "goog"),
}


@cache
def analyzer() -> SentimentIntensityAnalyzer:
    """VADER with the finance word list merged into its lexicon."""
    vader = SentimentIntensityAnalyzer()
    vader.lexicon.update(FINANCE_LEXICON)
    return vader


def score_headline(text: str) -> float:
    """Compound sentiment of one headline, -1 (bearish) .. +1 (bullish)."""
    return analyzer().polarity_scores(text)["compound"]


def label(score: float) -> str:
    if score >= POSITIVE:
        return "bullish"
    if score <= NEGATIVE:
        return "bearish"
    return "neutral"


def mentions(symbol: str, text: str) -> bool:
    words = set(text.lower().replace(",", " ").replace(":", " ").split())
    return any(k in words for k in SYMBOL_KEYWORDS.get(symbol, (symbol.lower(),)))


@dataclass(frozen=True)
class Headline:
    text: str
    symbol: str | None  # None: match by keywords
    time: datetime | None
    source: str


def read_headlines_csv(path: Path) -> tuple[list[Headline], list[str]]:
    """Read a user's CSV with a `headline` column and optional `symbol` and `time` columns;
    return the headlines and, for each row skipped, why (a bad row loses only itself)."""
    if not path.is_file():
        raise BadInput(f"headlines_csv: no file at {path}")
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "headline" not in reader.fieldnames:
            raise BadInput("headlines_csv must have a 'headline' column")
        rows = list(reader)
    out, skipped = [], []
    for number, row in enumerate(rows, start=2):
        text = (row.get("headline") or "").strip()
        time = None
        try:
            if not text or not text.isprintable():
                raise ValueError("the headline must be one line of text")
            if row.get("time"):
                time = datetime.fromisoformat(row["time"])
                if time.tzinfo is None:
                    raise ValueError("the time needs a timezone (e.g. Z)")
        except ValueError as exc:
            skipped.append(f"line {number}: {exc}")
            continue
        symbol = (row.get("symbol") or "").strip().upper() or None
        out.append(Headline(text, symbol, time, "csv"))
    return out, skipped


def price_mood(closes: list[float]) -> float | None:
    """Market mood from price action: momentum over the window scaled by its volatility (the
    same RollingMood a replay session's strategy sees bar by bar)."""
    if len(closes) < 3:
        return None
    mood = RollingMood(len(closes))
    for close in closes:
        value = mood.update(close)
    return value
