"""Market data agent: writes bars from the replay or live source, never trading on bad data."""

from datetime import UTC, datetime, timedelta

from engine import catalog
from engine.agents.base import BaseAgent, interval_param
from engine.market.bars import bar_problem, is_gap, latest_bar_time, write_bars
from engine.market.live import CcxtFeed, LiveSource, YFinanceFeed, make_exchange
from engine.market.replay import ReplaySource
from engine.params import Param, iso_date


class MarketDataAgent(BaseAgent):
    kind = "market_data"
    title = "Market data"
    description = "Plays real historical bars (replay) or polls public feeds (live)."
    inputs = ()
    config = {
        p.name: p
        for p in (
            interval_param(1.0),
            Param("source", str, "replay", "replay shipped data or poll live feeds",
                  choices=("replay", "live")),
            Param("bars_per_tick", int, 1, "replay: bars each dataset advances a tick", 1, 1000),
            Param("replay_start", str, "", "replay: first bar time (ISO date); empty = "
                  "after the warm-up bars", check=iso_date),
            Param("warmup_bars", int, 200, "replay: history written before the start", 0, 5000),
            Param("exchange", str, "coinbase", "live: ccxt exchange id for crypto"),
            Param("stale_after_bars", float, 3.0, "live: warn when no new bar for this many "
                  "bar lengths", 1, 1000),
        )
    }

    def on_start(self) -> None:
        self.source = self._make_source()
        self.last_seen: dict[tuple[str, str], datetime | None] = {
            key: latest_bar_time(self.db, *key) for key in catalog.datasets()
        }
        self.warned_end: set[tuple[str, str]] = set()
        self.warned_stale: set[tuple[str, str]] = set()

    def _make_source(self):
        if self.cfg["source"] == "live":
            crypto = CcxtFeed(make_exchange(self.cfg["exchange"]))
            return LiveSource(crypto, YFinanceFeed(), catalog.datasets())
        cursor = self.state.setdefault("replay_cursor", {})
        return ReplaySource(
            cursor, self.cfg["bars_per_tick"], self.cfg["replay_start"], self.cfg["warmup_bars"]
        )

    def on_config(self, changes: dict) -> None:
        self.cfg.update(changes)
        if self.status == "running":
            self.on_start()

    def on_tick(self) -> int:
        written = 0
        for key, bars in self.source.fetch().items():
            written += write_bars(self.db, *key, self._usable(key, bars))
        self.state["last_bar"] = {
            f"{s}/{tf}": ts.isoformat() for (s, tf), ts in self.last_seen.items() if ts
        }
        self._warn_finished()
        self._warn_stale()
        return written

    def _usable(self, key: tuple[str, str], bars: list) -> list:
        """Drop bars already stored, and bad ones (with a warning); warn on gaps."""
        usable, previous = [], self.last_seen.get(key)
        for bar in bars:
            if previous is not None and bar.ts <= previous:
                continue
            problem = bar_problem(bar)
            if problem:
                self.event("bad_data", f"{key[0]} {key[1]} bar {bar.ts:%Y-%m-%d %H:%M} has "
                           f"{problem}; skipped, not traded on", "warning")
                continue
            if is_gap(*key, previous, bar.ts):
                self.event("gap", f"{key[0]} {key[1]}: gap from {previous:%Y-%m-%d %H:%M} to "
                           f"{bar.ts:%Y-%m-%d %H:%M}", "warning")
            usable.append(bar)
            previous = bar.ts
        self.last_seen[key] = previous
        return usable

    def _warn_finished(self) -> None:
        for key in self.source.finished():
            if key not in self.warned_end:
                self.warned_end.add(key)
                self.event("data_end", f"replay reached the end of the {key[0]} {key[1]} data")

    def _warn_stale(self) -> None:
        if self.cfg["source"] != "live":
            return
        now = datetime.now(UTC)
        for key, seen in self.last_seen.items():
            bar_s = catalog.TIMEFRAMES[key[1]]
            limit = timedelta(seconds=bar_s * (1 + self.cfg["stale_after_bars"]))
            if seen is not None and now - seen <= limit:
                self.warned_stale.discard(key)
            elif key not in self.warned_stale:
                self.warned_stale.add(key)
                self.event("stale", f"{key[0]} {key[1]}: no new bar since {seen}", "warning")

    def summary(self) -> dict:
        newest = max((ts for ts in self.last_seen.values() if ts), default=None)
        return {
            "source": self.cfg["source"],
            "datasets": len(self.last_seen),
            "last_bar": newest.isoformat() if newest else None,
        }
