"""Strategy agent: loads every running session into the trading core and keeps it current.

Each running session gets a `Trader` (settings, account, working orders, strategies warmed on
the bars up to its clock); settings and speed changes are taken here. While this agent is
stopped no session decides anything: the execution agent holds every clock, visibly.
"""

import time

from engine.agents.base import BaseAgent
from engine.registry.agents import SPECS

EXECUTION_HELD = "execution agent stopped: fills held"


class StrategyAgent(BaseAgent):
    spec = SPECS["strategy"]

    def on_start(self) -> None:
        self.loaded = 0

    def on_tick(self) -> int:
        book = self.ctx.book
        loaded = book.sync(time.monotonic())
        self.loaded += loaded
        if not self.ctx.stages.running("execution"):
            book.hold(EXECUTION_HELD)
        return loaded

    def summary(self) -> dict:
        book = self.ctx.book
        return {"sessions_served": len(book.clocks), "sessions_loaded": self.loaded,
                "orders_decided": book.counts["orders"]}
