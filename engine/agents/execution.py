"""Execution agent: the paper broker's loop. It advances every running session's clock by the
bars it owes — fill, mark equity, decide, in the core — commits each batch in one transaction
with its events (fills, rejections, alerts), then appends each session's log lines to its file
once. While the strategy agent is stopped it holds every clock, visibly.
"""

import logging
import time

from engine.agents.base import BaseAgent
from engine.core.records import FillRecord
from engine.logs import append_lines
from engine.reads.words import held
from engine.registry.agents import SPECS
from engine.store.events import EventRow
from engine.trading.clock import Committed
from engine.trading.store import Batch

STRATEGY_HELD = held("strategy", "stopped")
FF_BUDGET_S = 0.5  # of each tick, spent on fast-forwarding `max`-speed sessions
FILL_EVENTS_MAX = 20  # more fills than this in one batch are summed up in one event


class ExecutionAgent(BaseAgent):
    spec = SPECS["execution"]

    def on_start(self) -> None:
        self.filled = 0
        self.held = True  # the first tick clears reasons left by a held or stopped stage

    def on_tick(self) -> int:
        book = self.ctx.book
        if not self.ctx.stages.running("strategy"):
            book.hold(STRATEGY_HELD)
            self.held = True
            return 0
        now = time.monotonic()
        if self.held:
            book.release_holds(now)
            self.held = False
        results = [book.tick(now, self._events),
                   *book.fast_forward(now + FF_BUDGET_S, describe=self._events)]
        fills = sum(len(r.fills) for r in results)
        self._log(results)
        self.filled += fills
        return fills

    def _events(self, batches: list[Batch]) -> list[EventRow]:
        """The fills, rejections and alerts of a commit's batches, written with them."""
        events, limit = [], self.cfg["alert_drawdown_pct"]
        for batch in batches:
            if not (batch.out.fills or batch.out.closed) and not (
                    batch.dd_before < limit <= batch.trader.ledger.max_drawdown_pct):
                continue  # most batches of a tick: bars marked, nothing to tell
            sid, source = batch.session_id, f"session-{batch.session_id}"
            fills = batch.out.fills
            if len(fills) > FILL_EVENTS_MAX:
                events.append((source, "fills", f"session {sid}: {len(fills)} fills over "
                               f"{len(batch.out.snapshots)} bars", "info"))
            else:
                events += [(source, "fill", _fill_message(sid, f), "info") for f in fills]
            events += [(source, "rejected", f"session {sid}: order #{seq} rejected: {why}",
                        "warning") for seq, status, why in batch.out.closed
                       if status == "rejected"]
            events += [(source, f"alert_{kind}", message, "warning")
                       for kind, message in self._alerts(batch)]
        return events

    def _alerts(self, batch) -> list[tuple[str, str]]:
        sid, ledger = batch.session_id, batch.trader.ledger
        alerts = []
        limit = self.cfg["alert_drawdown_pct"]
        if batch.dd_before < limit <= ledger.max_drawdown_pct:
            alerts.append(("drawdown", f"session {sid} drawdown "
                           f"{ledger.max_drawdown_pct:.1f}% passed the {limit:g}% alert"))
        for f in batch.out.fills:
            notional = f.qty * f.price
            if notional >= self.cfg["alert_trade_notional"]:
                alerts.append(("large_trade", f"session {sid}: large {f.side} of "
                               f"{f.symbol}, {notional:,.2f} notional"))
            if f.realized_pnl < 0 and f.loss_streak == self.cfg["alert_loss_streak"]:
                alerts.append(("loss_streak", f"session {sid}: {f.loss_streak} losing "
                               "trades in a row"))
        return alerts

    def _log(self, results: list[Committed]) -> None:
        """Each session's orders and events of this tick, appended to its log in one write."""
        lines: dict[str, list[tuple[int, str]]] = {}
        for result in results:
            for batch in result.batches:
                if 0 < len(batch.out.orders) <= FILL_EVENTS_MAX:
                    lines.setdefault(f"session-{batch.session_id}", []).extend(
                        (logging.INFO, f"order #{o.seq}: {o.side} {o.qty:.8g} {o.symbol} "
                         f"({o.reason}) decided on bar {o.decision_ts.isoformat()}")
                        for o in batch.out.orders)
            for source, kind, message, severity in result.events:
                level = logging.INFO if severity == "info" else logging.WARNING
                lines.setdefault(source, []).append((level, f"{kind}: {message}"))
        append_lines(self.ctx.settings.logs_dir, lines)

    def summary(self) -> dict:
        book = self.ctx.book
        return {"orders_filled": self.filled, "sessions_trading": len(book.clocks),
                "fast_forwarding": sum(c.speed is None for c in book.clocks.values())}


def _fill_message(sid: int, f: FillRecord) -> str:
    verb = "bought" if f.side == "buy" else "sold"
    return (f"session {sid}: {verb} {f.qty:.8g} {f.symbol} @ {f.price:,.2f} "
            f"(fee {f.fee:,.2f}; order #{f.seq}; bar {f.bar_ts:%Y-%m-%d %H:%M})")
