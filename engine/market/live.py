"""Live: closed bars from ccxt public endpoints (crypto, no API key) or yfinance (stocks)."""

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd

from engine.core.bars import BarData
from engine.errors import TransientError
from engine.market import catalog

CCXT_TIMEFRAMES = {"1h": "1h", "1d": "1d"}
NETWORK_TIMEOUT_MS = 10_000
YF_INTERVALS = {"1h": ("60m", "7d"), "1d": ("1d", "1mo")}


def ccxt_market(symbol: str) -> str:
    """"BTC-USD" → "BTC/USD" (ccxt's unified market symbol)."""
    return symbol.replace("-", "/")


class CcxtFeed:
    """OHLCV from one ccxt exchange's public API. Only closed bars are returned."""

    def __init__(self, exchange):
        self.exchange = exchange

    def closed_bars(self, symbol: str, timeframe: str, now: datetime) -> list[BarData]:
        import ccxt

        try:
            rows = self.exchange.fetch_ohlcv(
                ccxt_market(symbol), CCXT_TIMEFRAMES[timeframe], limit=100
            )
        except (ccxt.NetworkError, ccxt.ExchangeNotAvailable) as exc:
            raise TransientError(f"{self.exchange.id}: {exc}") from exc
        step = catalog.TIMEFRAMES[timeframe]
        bars = []
        for ms, o, h, low, c, v in rows:
            opened = datetime.fromtimestamp(ms / 1000, tz=UTC)
            if opened.timestamp() + step <= now.timestamp():
                bars.append(BarData(opened, o, h, low, c, v))
        return bars


def make_exchange(exchange_id: str):
    import ccxt

    if exchange_id not in ccxt.exchanges:
        raise ValueError(f"unknown ccxt exchange {exchange_id!r}")
    return getattr(ccxt, exchange_id)({"enableRateLimit": True, "timeout": NETWORK_TIMEOUT_MS})


def yfinance_history(symbol: str, interval: str, period: str) -> pd.DataFrame:
    import yfinance

    return yfinance.Ticker(symbol).history(interval=interval, period=period, auto_adjust=True,
                                           timeout=NETWORK_TIMEOUT_MS / 1000)


class YFinanceFeed:
    """Daily or hourly stock bars from yfinance; `history` is swappable at the network edge."""

    def __init__(self, history: Callable[[str, str, str], pd.DataFrame] = yfinance_history):
        self.history = history

    def closed_bars(self, symbol: str, timeframe: str, now: datetime) -> list[BarData]:
        interval, period = YF_INTERVALS[timeframe]
        try:
            frame = self.history(symbol, interval, period)
        except (OSError, ValueError) as exc:
            raise TransientError(f"yfinance {symbol}: {exc}") from exc
        step = catalog.TIMEFRAMES[timeframe]
        bars = []
        for ts, row in frame.iterrows():
            opened = pd.Timestamp(ts).tz_convert("UTC").to_pydatetime()
            if opened.timestamp() + step <= now.timestamp():
                bars.append(
                    BarData(opened, float(row["Open"]), float(row["High"]), float(row["Low"]),
                            float(row["Close"]), float(row["Volume"]))
                )
        return bars


class LiveSource:
    """Poll each symbol's feed: stocks through yfinance, everything else through ccxt."""

    name = "live"

    def __init__(self, crypto: CcxtFeed, stocks: YFinanceFeed, datasets: list[tuple[str, str]]):
        self.crypto, self.stocks, self.datasets = crypto, stocks, datasets

    def fetch(self, now: datetime | None = None) -> dict[tuple[str, str], list[BarData]]:
        now = now or datetime.now(UTC)
        out = {}
        for symbol, timeframe in self.datasets:
            feed = self.stocks if catalog.asset_class(symbol, timeframe) == "stock" else \
                self.crypto
            out[(symbol, timeframe)] = feed.closed_bars(symbol, timeframe, now)
        return out
