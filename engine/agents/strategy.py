"""Strategy agent: loads every running session into the trading core and keeps it current.

Each running session gets a `Trader` (settings, account, working orders, strategies warmed on
the bars up to its clock); settings and speed changes are taken here. While this agent is
stopped no session decides anything: the execution agent holds every clock, visibly.

It also owns the operator's strategy files (engine.registry.strategies): loaded when the engine
starts and again on `python -m engine strategies reload`; a file that does not load is an error
event and a line on this agent's card, and the other files load as usual.
"""

import time

from engine.agents.base import BaseAgent
from engine.reads.words import held
from engine.registry import strategies
from engine.registry.agents import SPECS

EXECUTION_HELD = held("execution", "stopped")


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

    def reload(self, by: str) -> str:
        """Load the strategy files again; sessions loaded from now on use what they hold."""
        found = strategies.scan(pin=True)
        for problem in found.problems:
            self.event("strategy_load_failed", f"strategy file {problem}", "error")
        own = [name for name, source in found.sources.items() if source.sha256]
        message = (f"strategies loaded {by}: {len(found.sources)} "
                   f"({len(own)} from {found.folder}); "
                   f"{len(found.problems)} file(s) did not load")
        self.event("strategies_loaded", message,
                   "warning" if found.problems else "info")
        return message

    def summary(self) -> dict:
        book, found = self.ctx.book, strategies.loaded()
        return {"sessions_served": len(book.clocks), "sessions_loaded": self.loaded,
                "orders_decided": book.counts["orders"], "strategies": len(found.sources),
                "strategy_files_failed": [str(p) for p in found.problems][:20]}
