"""Execution agent: the paper broker's loop — fill, mark to market, raise alerts."""

import logging

from sqlalchemy import func, select

from engine.agents.base import BaseAgent, interval_param
from engine.broker.paper import BOOK_LOCK, FillReport, execute_pending
from engine.db import session_scope
from engine.events import record_events
from engine.lifecycle import OrderStatus
from engine.logs import get_logger
from engine.metrics import Alert, mark_to_market
from engine.models import Order
from engine.params import Param


class ExecutionAgent(BaseAgent):
    kind = "execution"
    title = "Execution"
    description = "Paper broker: fills orders on the next bar with slippage and fees."
    inputs = ("strategy",)
    config = {
        p.name: p
        for p in (
            interval_param(1.0),
            Param("alert_drawdown_pct", float, 10.0, "alert when a session's drawdown passes "
                  "this %", 0.1, 100),
            Param("alert_loss_streak", int, 3, "alert after this many losing trades in a row",
                  1, 1000),
            Param("alert_trade_notional", float, 50_000.0, "alert on a fill larger than this "
                  "(quote currency)", 1, 1e12),
        )
    }

    def on_start(self) -> None:
        self.filled = 0
        self.pending = 0

    def on_tick(self) -> int:
        with BOOK_LOCK:
            report = execute_pending(self.db)
        _, alerts = mark_to_market(self.db, self.cfg["alert_drawdown_pct"])
        alerts += self._trade_alerts(report)
        self._record(report, alerts)
        self.filled += len(report.fills)
        with session_scope(self.db) as s:
            self.pending = s.execute(
                select(func.count()).select_from(Order).where(Order.status == OrderStatus.PENDING)
            ).scalar_one()
        return len(report.fills)

    def _trade_alerts(self, report: FillReport) -> list[Alert]:
        alerts = []
        for fill in report.fills:
            notional = fill["qty"] * fill["price"]
            if notional >= self.cfg["alert_trade_notional"]:
                alerts.append(Alert(fill["session_id"], "large_trade",
                                    f"session {fill['session_id']}: large {fill['side']} of "
                                    f"{fill['symbol']}, {notional:,.2f} notional"))
        for sid, streak in report.loss_streaks.items():
            if streak == self.cfg["alert_loss_streak"]:
                alerts.append(Alert(sid, "loss_streak",
                                    f"session {sid}: {streak} losing trades in a row"))
        return alerts

    def _record(self, report: FillReport, alerts: list[Alert]) -> None:
        if not (report.fills or report.rejected or alerts):
            return
        logs_dir = self.ctx.settings.logs_dir
        events = []
        for f in report.fills:
            verb = "bought" if f["side"] == "buy" else "sold"
            message = (f"session {f['session_id']}: {verb} {f['qty']:.8g} {f['symbol']} @ "
                       f"{f['price']:,.4f} (fee {f['fee']:,.4f}; order {f['order_id']})")
            events.append((f"session-{f['session_id']}", "fill", message, "info"))
        for r in report.rejected:
            message = f"session {r['session_id']}: order {r['order_id']} rejected: {r['reason']}"
            events.append((f"session-{r['session_id']}", "rejected", message, "warning"))
        for a in alerts:
            events.append((f"session-{a.session_id}", f"alert_{a.kind}", a.message, "warning"))
        with session_scope(self.db) as s:
            record_events(s, events)
        for source, kind, message, severity in events:
            level = logging.INFO if severity == "info" else logging.WARNING
            get_logger(logs_dir, source).log(level, "%s: %s", kind, message)

    def summary(self) -> dict:
        return {"orders_filled": self.filled, "orders_pending": self.pending}
