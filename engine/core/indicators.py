"""Incremental indicators: each update is O(1), so 1,000 sessions tick cheaply."""

import math
from collections import deque


class SMA:
    """Simple moving average over the last `period` values."""

    def __init__(self, period: int):
        self.period = period
        self.window: deque[float] = deque(maxlen=period)
        self.total = 0.0

    def update(self, value: float) -> float | None:
        window, period = self.window, self.period
        if len(window) == period:  # full: the oldest value drops out (same sums, in order)
            total = self.total - window[0] + value
            window.append(value)
            self.total = total
            return total / period
        window.append(value)
        self.total += value
        return self.total / period if len(window) == period else None

    @property
    def value(self) -> float | None:
        return self.total / self.period if len(self.window) == self.period else None


class RSI:
    """Wilder's relative strength index (0..100)."""

    def __init__(self, period: int):
        self.period = period
        self.prev: float | None = None
        self.count = 0
        self.avg_gain = 0.0
        self.avg_loss = 0.0

    def update(self, close: float) -> float | None:
        if self.prev is None:
            self.prev = close
            return None
        change, self.prev = close - self.prev, close
        gain, loss = max(change, 0.0), max(-change, 0.0)
        self.count += 1
        if self.count <= self.period:
            self.avg_gain += gain / self.period
            self.avg_loss += loss / self.period
        else:
            self.avg_gain = (self.avg_gain * (self.period - 1) + gain) / self.period
            self.avg_loss = (self.avg_loss * (self.period - 1) + loss) / self.period
        return self.value

    @property
    def value(self) -> float | None:
        if self.count < self.period:
            return None
        if self.avg_loss == 0:
            return 100.0
        return 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)


def squash(x: float) -> float:
    """Map any real number into (-1, 1)."""
    return math.tanh(x)


class RollingMood:
    """Market mood from the last `window` closes: the summed log returns over their sample
    standard deviation × √n, squashed into (-1, 1). Updated in O(1) per bar."""

    def __init__(self, window: int):
        self.returns: deque[float] = deque(maxlen=window - 1)
        self.prev: float | None = None
        self.total = 0.0
        self.total_sq = 0.0

    def update(self, close: float) -> float | None:
        if self.prev is not None and self.prev > 0 and close > 0:
            r = math.log(close / self.prev)
            if len(self.returns) == self.returns.maxlen:
                old = self.returns[0]
                self.total -= old
                self.total_sq -= old * old
            self.returns.append(r)
            self.total += r
            self.total_sq += r * r
        self.prev = close
        return self.value

    @property
    def value(self) -> float | None:
        n = len(self.returns)
        if n < 2:
            return None
        mean = self.total / n
        var = (self.total_sq - n * mean * mean) / (n - 1)
        if var <= 1e-18:
            return 0.0
        return math.tanh(self.total / (math.sqrt(var) * math.sqrt(n)))
