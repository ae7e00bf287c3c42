"""Reconcile: fast-forward a session's window again, with the settings it started with, and
compare trade by trade with what it did. Every difference names its cause from the session's
history (settings changed mid-run, closed on stop, live bars that passed while paused, the
strategy's file edited since the session was created). The operator's manual closes are
replayed at their bars, and listed."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, Row, select
from sqlmodel import Session

from engine.core.records import MANUAL, FillRecord, Intervention
from engine.core.settings import TradeSettings, describe_change
from engine.core.trader import Outbox, Trader, replay
from engine.errors import BadInput, NotFound
from engine.market import catalog
from engine.market.series import BarCache
from engine.news.series import load_news
from engine.params import session_key
from engine.reads.records import Difference, ManualOrder
from engine.registry import strategies
from engine.store.models import Event, Fill, Order, PaperSession
from engine.store.types import parse_time

REL_TOL = 1e-9
TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Reconciliation:
    session_id: int
    bars: int  # bar times re-run
    expected: int  # fills of the fast-forward
    actual: int  # fills of the session
    matched: int
    match_pct: float
    differences: list[Difference] = field(default_factory=list)
    settings: str = "as created"
    # the operator's orders, replayed at their bars (so they match unless something else
    # differs)
    interventions: list[ManualOrder] = field(default_factory=list)


def initial_settings(row: PaperSession) -> TradeSettings:
    """The settings the session was created with (its changes undone, newest first)."""
    settings = catalog.trade_settings(row)
    for change in reversed(row.config_history or []):
        settings = settings.changed(change["before"])
    return settings


def rerun(db: Engine, row: PaperSession, settings: TradeSettings,
          until: datetime | None) -> tuple[Outbox, Trader]:
    """Fast-forward the session's window from its first bar through `until` with `settings`
    and the operator's recorded interventions, in memory; return what it produced and the
    trader (its account and ledger at the end)."""
    if until is None:
        return Outbox(), Trader(settings)
    series = BarCache(db).session_series(settings.symbols, row.timeframe)
    return replay(settings, series, row.window_from, until, load_news(db, settings),
                  [Intervention.of(i) for i in row.interventions or []])


def _expected(db: Engine, row: PaperSession) -> tuple[list[FillRecord], int]:
    out, trader = rerun(db, row, initial_settings(row), row.last_bar_at)
    return out.fills, trader.ledger.bars_done


def _actual(s: Session, session_id: int) -> list[Row]:
    """The session's stored fills (bar_ts, symbol, side, qty, price, fee, seq, reason)."""
    return list(s.execute(select(Fill.bar_ts, Fill.symbol, Fill.side, Fill.qty, Fill.price,
                                 Fill.fee, Order.seq, Order.reason)
                          .join(Order, Order.id == Fill.order_id)
                          .where(Fill.session_id == session_id).order_by(Fill.id)).all())


def _manual_orders(s: Session, session_id: int) -> list[ManualOrder]:
    return [ManualOrder(*r) for r in s.execute(
        select(Order.seq, Order.symbol, Order.side, Order.qty, Order.filled_qty, Order.status,
               Order.decision_bar_ts, Order.requested_by)
        .where(Order.session_id == session_id, Order.origin == MANUAL).order_by(Order.seq))]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


class _Causes:
    """Names why a fill at a bar may differ, from the session's recorded history."""

    def __init__(self, s: Session, row: PaperSession):
        self.changes = [(parse_time(c["after_bar"]), c) for c in row.config_history or []]
        self.live_gaps = list(s.execute(select(Event.message).where(
            Event.source == f"session-{row.id}", Event.kind == "live_gap")).scalars())
        self.source = row.source
        now = strategies.source_hash(row.strategy, strategies.current())
        self.code_changed = row.strategy_source is not None and now != row.strategy_source

    def of(self, bar_ts: datetime, reason: str | None) -> str:
        if reason == "close on stop":
            return "closed on stop: sold at the last close when the session was stopped"
        for after, change in self.changes:
            if after is None or bar_ts > after:
                summary = describe_change(change["before"], change["after"])
                when = f"after bar {after:{TIME}}" if after else "before the first bar"
                return f"settings changed {when}: {summary}"
        if self.code_changed:
            return ("strategy code changed since the session started (its file's sha256 is no "
                    "longer the one it was created with)")
        if reason == "manual close":
            return ("manual close (Close position): replayed at its bar, it sold a different "
                    "holding because of an earlier difference")
        if self.source == "live":
            if self.live_gaps:
                return f"live: {self.live_gaps[0]}"
            return "live: the bar arrived late or was revised by the feed"
        return "unexplained: please report it (a replay session should match bar for bar)"


def _key(f: FillRecord | Row) -> tuple:
    return f.bar_ts, f.symbol, f.side


def windowed_session(s: Session, session_id) -> PaperSession:
    """The session to re-run: it must exist and have a window."""
    key = session_key(session_id)
    row = s.get(PaperSession, key)
    if row is None:
        raise NotFound(f"no session {key}")
    if row.window_from is None:
        raise BadInput(f"session {key} has no window yet: start it first")
    return row


def reconcile(db: Engine, session_id) -> Reconciliation:
    """Compare a session's fills with a fast-forward of its window up to its clock."""
    with Session(db) as s:
        row = windowed_session(s, session_id)
        key = row.id
        actual = _actual(s, key)
        causes = _Causes(s, row)
        manual = _manual_orders(s, key)
    expected, bars = _expected(db, row)
    remaining = {}
    for f in actual:
        remaining.setdefault(_key(f), []).append(f)
    differences, matched = [], 0
    for want in expected:
        got = remaining.get(_key(want), [])
        if not got:
            differences.append(_diff("missing", want, None, causes.of(want.bar_ts, None)))
            continue
        have = got.pop(0)
        if _close(have.qty, want.qty) and _close(have.price, want.price):
            matched += 1
        else:
            differences.append(_diff("different", want, have,
                                     causes.of(want.bar_ts, have.reason)))
    for extra in (f for fs in remaining.values() for f in fs):
        differences.append(_diff("extra", None, extra, causes.of(extra.bar_ts, extra.reason)))
    total = max(len(expected), len(actual))
    return Reconciliation(
        session_id=key, bars=bars, expected=len(expected), actual=len(actual), matched=matched,
        match_pct=100.0 if total == 0 else matched / total * 100,
        differences=sorted(differences, key=lambda d: d.bar_ts),
        settings=_settings_text(row), interventions=manual)


def _settings_text(row: PaperSession) -> str:
    text = "as created" if not row.config_history else \
        f"as created (before {len(row.config_history)} later change(s))"
    closes = len(row.interventions or [])
    return text + (f", with {closes} manual close(s) replayed at their bars" if closes else "")


def _diff(kind: str, want: FillRecord | None, have: Row | None, cause: str) -> Difference:
    ref = want or have
    return Difference(kind, ref.bar_ts, ref.symbol, ref.side, want and want.qty,
                      want and want.price, have and have.qty, have and have.price, cause)
