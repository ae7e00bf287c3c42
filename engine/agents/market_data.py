"""Market data agent: keeps bars stored and fresh — the shipped history loaded once (replay),
or polled from public feeds (live) — and never stores bad bars.

There is no replay cursor: each session has its own clock over the stored bars. With several
workers on PostgreSQL each dataset has one owner (engine.fleet.workers): only it writes its bars and
watches them for staleness.
"""

from datetime import UTC, datetime, timedelta

from engine.agents.base import BaseAgent
from engine.core.bars import is_gap
from engine.market import catalog
from engine.market.bars import bar_problem, latest_bar_time, owned_datasets, write_bars
from engine.market.live import CcxtFeed, LiveSource, YFinanceFeed, make_exchange
from engine.market.replay import load_shipped
from engine.registry.agents import SPECS
from engine.trading.watchdog import pause_stale, resume_fresh


class MarketDataAgent(BaseAgent):
    spec = SPECS["market_data"]

    def on_start(self) -> None:
        self.loaded: dict[tuple[str, str], int] = {}
        self.last_seen: dict[tuple[str, str], datetime | None] = {
            key: latest_bar_time(self.db, *key) for key in catalog.datasets()
        }
        self.warned_stale: set[tuple[str, str]] = set()
        self.owned: set[tuple[str, str]] = set(catalog.datasets())  # what last_seen is current for
        self.live = None
        if self.cfg["source"] == "live":
            crypto = CcxtFeed(make_exchange(self.cfg["exchange"]))
            self.live = LiveSource(crypto, YFinanceFeed(), catalog.shipped_datasets())

    def on_config(self, changes: dict) -> None:
        self.cfg.update(changes)
        if self.status == "running":
            self.on_start()

    def _owned(self) -> list[tuple[str, str]]:
        """The datasets this agent writes: all of them, or its worker's share."""
        if self.ctx.worker is None:
            return catalog.datasets()
        owned = owned_datasets(self.db, self.ctx.worker)
        for key in set(owned) - self.owned:  # written by another worker until now
            self.last_seen[key] = latest_bar_time(self.db, *key)
            self.warned_stale.discard(key)
        self.owned = set(owned)
        return owned

    def on_tick(self) -> int:
        owned = self._owned()
        written = self._load_shipped(owned)
        if self.live is not None:
            self.live.datasets = [k for k in owned if k in catalog.shipped_datasets()]
            for key, bars in self.live.fetch().items():
                usable = self._usable(key, bars)
                written += write_bars(self.db, *key, usable)
                if usable:  # only once they are stored: a failed write refetches them
                    self.last_seen[key] = usable[-1].ts
            self._warn_stale(self.live.datasets)
        self.state["last_bar"] = {
            f"{s}/{tf}": ts.isoformat() for (s, tf), ts in self.last_seen.items() if ts
        }
        return written

    def _load_shipped(self, owned: list[tuple[str, str]]) -> int:
        """Store every shipped dataset once (idempotent): replay sessions trade these bars.
        (An import stores its own bars.)"""
        written, shipped = 0, catalog.shipped_datasets()
        for key in owned:
            if key in self.loaded or key not in shipped:
                continue
            count, newest = load_shipped(self.db, *key)
            written += count
            self.loaded[key] = catalog.span(*key)[2]
            if self.last_seen.get(key) is None or newest > self.last_seen[key]:
                self.last_seen[key] = newest
            if count:
                self.event("loaded", f"{key[0]} {key[1]}: stored {count} shipped bars")
        return written

    def _usable(self, key: tuple[str, str], bars: list) -> list:
        """Drop bars already stored, and bad ones (with a warning); warn on gaps. The caller
        moves `last_seen` on once the bars are written."""
        usable, previous = [], self.last_seen.get(key)
        for bar in bars:
            if previous is not None and bar.ts <= previous:
                continue
            problem = bar_problem(bar)
            if problem:
                self.event("bad_data", f"{key[0]} {key[1]} bar {bar.ts:%Y-%m-%d %H:%M} has "
                           f"{problem}; skipped, not traded on", "warning")
                continue
            if is_gap(catalog.asset_class(*key), key[1], previous, bar.ts):
                self.event("gap", f"{key[0]} {key[1]}: gap from {previous:%Y-%m-%d %H:%M} to "
                           f"{bar.ts:%Y-%m-%d %H:%M}", "warning")
            usable.append(bar)
            previous = bar.ts
        return usable

    def _warn_stale(self, owned: list[tuple[str, str]]) -> None:
        if self.cfg["source"] != "live":
            return
        now = datetime.now(UTC)
        for key in owned:
            seen = self.last_seen.get(key)
            bar_s = catalog.TIMEFRAMES[key[1]]
            limit = timedelta(seconds=bar_s * (1 + self.cfg["stale_after_bars"]))
            if seen is not None and now - seen <= limit:
                if key in self.warned_stale:
                    self.warned_stale.discard(key)
                    resume_fresh(self.db, key)
            elif key not in self.warned_stale:
                self.warned_stale.add(key)
                why = f"{key[0]} {key[1]}: no new bar since {seen:%Y-%m-%d %H:%M}" if seen \
                    else f"{key[0]} {key[1]}: no bars yet"
                self.event("stale", why, "warning")
                pause_stale(self.db, key, why)

    def summary(self) -> dict:
        newest = max((ts for ts in self.last_seen.values() if ts), default=None)
        return {
            "source": self.cfg["source"],
            "datasets": len(self.last_seen),
            "datasets_loaded": len(self.loaded),
            "bars_loaded": sum(self.loaded.values()),
            "last_bar": newest.isoformat() if newest else None,
        }
