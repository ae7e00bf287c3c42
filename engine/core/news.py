"""A session's sentiment input, and the stored headline scores as a pure lookup by bar time.

A session chooses one input (`TradeSettings.sentiment`):
- `news`: the mean of the stored headline scores of the bar's symbol that became known in the
  `NEWS_WINDOW` before the bar's close (publish time; the poll time for undated items), or None
  when there were none. A score known after the bar's close never reaches that bar.
- `price-mood`: the mood of the session's own closes over the last `MOOD_WINDOW` bars (what
  sessions saw before news was stored), for strategies that set `uses_sentiment`.
- `none`: no sentiment.
"""

from bisect import bisect_right
from datetime import datetime, timedelta
from itertools import accumulate

NEWS = "news"
PRICE_MOOD = "price-mood"
NO_SENTIMENT = "none"
SENTIMENT_INPUTS = (NEWS, PRICE_MOOD, NO_SENTIMENT)
NEWS_WINDOW = timedelta(hours=24)  # headline scores known this long before a bar's close count
MOOD_WINDOW = 24  # bars behind the price mood (the sentiment agent publishes the same mood)


class NewsSeries:
    """One symbol's headline scores in the order they became known."""

    def __init__(self, known_at: list[datetime], scores: list[float]):
        order = sorted(range(len(known_at)), key=lambda i: (known_at[i], scores[i]))
        self.known_at = [known_at[i] for i in order]
        self.scores = [scores[i] for i in order]
        self._sums = [0.0, *accumulate(self.scores)]

    def __len__(self) -> int:
        return len(self.known_at)

    def at(self, close: datetime) -> float | None:
        """The mean score known in (close - NEWS_WINDOW, close], or None without one."""
        times = self.known_at
        last = bisect_right(times, close)
        first = bisect_right(times, close - NEWS_WINDOW, 0, last)
        if last == first:
            return None
        return (self._sums[last] - self._sums[first]) / (last - first)


News = dict[str, NewsSeries]  # a session's news by symbol (a symbol without scores is absent)
