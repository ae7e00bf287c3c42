"""Strategy agent: runs each running session's strategy on new bars and submits orders."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.agents.base import BaseAgent, interval_param
from engine.broker.paper import BOOK_LOCK, pending_counts, submit_orders
from engine.db import session_scope
from engine.lifecycle import SessionStatus
from engine.logs import get_logger
from engine.market.bars import bars_after, is_gap, last_bars, latest_bar_time
from engine.models import PaperSession, Position, SentimentScore
from engine.strategies import BarData, Signal, Strategy, strategy_class

Key = tuple[str, str]
WARMUP_READ = 600  # bars of history read per dataset when sessions start (covers every default)
# What a tick needs of each running session (parameters are read once, at warm-up).
SESSION_COLUMNS = (
    PaperSession.id, PaperSession.strategy, PaperSession.symbols, PaperSession.timeframe,
    PaperSession.position_size, PaperSession.stop_loss_pct, PaperSession.take_profit_pct,
    PaperSession.cash, PaperSession.equity,
)


@dataclass
class SessionRuntime:
    """A running session's strategy instances, one per symbol, warmed on the latest bars."""

    strategies: dict[str, Strategy]
    last_ts: dict[str, datetime | None]


def latest_sentiment(s) -> dict[str, tuple[float, str]]:
    newest = select(func.max(SentimentScore.id)).group_by(SentimentScore.symbol)
    rows = s.execute(
        select(SentimentScore.symbol, SentimentScore.score, SentimentScore.source).where(
            SentimentScore.id.in_(newest)
        )
    )
    return {symbol: (score, source) for symbol, score, source in rows}


def decide(row, symbol: str, bar: BarData, signal: Signal | None, holding: tuple[float, float],
           n_symbols: int) -> tuple[str, float, str] | None:
    """Risk layer: turn a signal (or a stop) into (side, qty, rule); long-only, one entry."""
    qty, avg = holding
    if qty > 0:
        if row.stop_loss_pct and bar.close <= avg * (1 - row.stop_loss_pct / 100):
            return "sell", qty, f"stop-loss {row.stop_loss_pct:g}% below entry"
        if row.take_profit_pct and bar.close >= avg * (1 + row.take_profit_pct / 100):
            return "sell", qty, f"take-profit {row.take_profit_pct:g}% above entry"
        if signal and signal.side == "sell":
            return "sell", qty, signal.rule
        return None
    if signal and signal.side == "buy":
        budget = min(row.equity * row.position_size / n_symbols, row.cash)
        if budget > 0:
            return "buy", budget / bar.close, signal.rule
    return None


class StrategyAgent(BaseAgent):
    kind = "strategy"
    title = "Strategy"
    description = "Runs every running session's strategy and risk rules on each new bar."
    inputs = ("market_data", "sentiment")
    config = {p.name: p for p in (interval_param(1.0),)}

    def on_start(self) -> None:
        self.runtimes: dict[int, SessionRuntime] = {}
        self.cursors: dict[Key, datetime | None] = {}
        self.signals = 0
        self.sessions_served = 0

    def _warm(self, rows: list, upto: dict[Key, datetime | None]) -> None:
        """Build runtimes for newly running sessions: one parameter query for all of them and
        one history read per dataset, shared."""
        with session_scope(self.db) as s:
            params = dict(s.execute(select(PaperSession.id, PaperSession.params).where(
                PaperSession.id.in_([r.id for r in rows]))).all())
        history: dict[Key, list[BarData]] = {}
        for row in rows:
            cls = strategy_class(row.strategy)
            need = cls.warmup(params[row.id])
            strategies, last_ts = {}, {}
            for symbol in row.symbols.split(","):
                key = (symbol, row.timeframe)
                if len(history.get(key, ())) < need:
                    history[key] = last_bars(self.db, *key, upto.get(key), max(need, WARMUP_READ))
                bars = history[key][-need:]
                strategy = cls(params[row.id])
                for bar in bars:
                    strategy.on_bar(bar, None)
                strategies[symbol] = strategy
                last_ts[symbol] = bars[-1].ts if bars else None
            self.runtimes[row.id] = SessionRuntime(strategies, last_ts)

    def _new_bars(self, keys: set[Key]) -> dict[Key, list[BarData]]:
        out = {}
        for key in keys:
            if key not in self.cursors:
                self.cursors[key] = latest_bar_time(self.db, *key)
                out[key] = []
                continue
            out[key] = bars_after(self.db, *key, self.cursors[key])
        return out

    def on_tick(self) -> int:
        with session_scope(self.db) as s:
            sessions = list(s.execute(select(*SESSION_COLUMNS).where(
                PaperSession.status == SessionStatus.RUNNING)))
            holdings = {(sid, sym): (qty, avg) for sid, sym, qty, avg in s.execute(
                select(Position.session_id, Position.symbol, Position.qty, Position.avg_price)
                .where(Position.qty > 0))}
            pending = pending_counts(s)
            sentiment = latest_sentiment(s)
        running = {row.id for row in sessions}
        self.runtimes = {k: v for k, v in self.runtimes.items() if k in running}
        keys = {(sym, row.timeframe) for row in sessions for sym in row.symbols.split(",")}
        new_bars = self._new_bars(keys)
        new = [row for row in sessions if row.id not in self.runtimes]
        if new:
            self._warm(new, self.cursors)
        orders = []
        for row in sessions:
            orders += self._run_session(row, new_bars, holdings, pending, sentiment)
        for key, bars in new_bars.items():
            if bars:
                self.cursors[key] = bars[-1].ts
        if orders:
            with BOOK_LOCK, session_scope(self.db) as s:
                submit_orders(s, orders)
            for order in orders:
                get_logger(self.ctx.settings.logs_dir, f"session-{order['session_id']}").info(
                    "order: %s %.8g %s (%s) decided on bar %s", order["side"], order["qty"],
                    order["symbol"], order["reason"], order["decision_bar_ts"].isoformat())
        self.sessions_served = len(sessions)
        self.signals += len(orders)
        return len(orders)

    def _run_session(self, row, new_bars, holdings, pending, sentiment) -> list[dict]:
        runtime = self.runtimes[row.id]
        symbols = row.symbols.split(",")
        orders = []
        for symbol in symbols:
            strategy = runtime.strategies[symbol]
            score, source = sentiment.get(symbol, (None, None))
            holding = holdings.get((row.id, symbol), (0.0, 0.0))
            for bar in new_bars.get((symbol, row.timeframe), []):
                previous = runtime.last_ts.get(symbol)
                if previous is not None and bar.ts <= previous:
                    continue
                runtime.last_ts[symbol] = bar.ts
                signal = strategy.on_bar(bar, score)
                if is_gap(symbol, row.timeframe, previous, bar.ts):
                    continue  # never trade on the bar after a gap
                if symbol in pending.get(row.id, set()):
                    continue
                decision = decide(row, symbol, bar, signal, holding, len(symbols))
                if decision is None:
                    continue
                side, qty, rule = decision
                orders.append({
                    "session_id": row.id, "symbol": symbol, "side": side, "qty": qty,
                    "order_type": "market", "decision_bar_ts": bar.ts, "reason": rule,
                    "lineage": {"bar_ts": bar.ts.isoformat(), "close": bar.close,
                                "indicators": dict(strategy.indicators), "sentiment": score,
                                "sentiment_source": source, "rule": rule},
                })
                pending.setdefault(row.id, set()).add(symbol)
        return orders

    def summary(self) -> dict:
        return {"sessions_served": self.sessions_served, "signals": self.signals}
