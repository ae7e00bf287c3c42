"""Session clocks: each running session advances through its own window at its own speed.

The wall clock only decides *when* a session's next bars are traded, never *what* they trade:
every bar goes through the same `Trader.step`, so a session's orders, fills and equity are the
same at 1 bar/s, at 1,000 bars/s, at `max`, and across pauses and restarts.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select, update

from engine.broker.paper import BOOK_LOCK
from engine.control.transitions import transition
from engine.core.lifecycle import SessionStatus
from engine.gc_pause import freeze_long_lived, no_cycle_collection
from engine.market.series import BarCache
from engine.news.series import refresh_live_news
from engine.store.db import select_raw, session_scope
from engine.store.events import EventRow, record_event, record_events
from engine.store.leases import SessionLease
from engine.store.models import PaperSession
from engine.store.plainsql import loaded_time
from engine.trading.budget import reason, run_limited, user_code
from engine.trading.isolation import FAULTS, fail_sessions
from engine.trading.session_clock import FF_CHUNK, SessionClock
from engine.trading.store import Batch, load_traders, needs_full_row, write_batches

LOAD_BATCH = 200  # sessions loaded per round of queries
COMMIT_CHUNK = 500  # sessions a transaction in a tick's commit
LOAD_BUDGET_S = 0.15  # of one strategy tick, spent loading newly running sessions
REFREEZE_S = 600.0  # at most this often, freezing loaded sessions first runs a full collection
# A session's quiet bars (marked, nothing ordered or filled) are written at least every
# CHECKPOINT_TICKS ticks, CHECKPOINT_GROUP consecutive sessions on the same tick: their rows
# share pages, so a tick rewrites a fifth of the pages. A batch with an order, a fill or an
# outcome, a completed window or missing first prices is written on its tick.
CHECKPOINT_TICKS = 5
CHECKPOINT_GROUP = 64
# the running sessions' clocks as the driver returns them (5,000 rows a strategy tick): id,
# settings revision, speed, fast-forward target and speed after it, lease epoch
RUNNING_CLOCKS = ("SELECT id, settings_rev, speed, ff_until, ff_then, 0 FROM paper_session "
                  "WHERE status = ?")
LEASED_CLOCKS = ("SELECT p.id, p.settings_rev, p.speed, p.ff_until, p.ff_then, l.epoch "
                 "FROM paper_session p JOIN session_lease l ON l.session_id = p.id "
                 "WHERE p.status = ? AND l.worker_id = ?")
# a commit chunk's running sessions with their settings revision and lease epoch, read with no
# per-row result processing, by the key's range (SQLite, without statistics, would otherwise
# walk every running session on the status index, chunk after chunk); a worker's are locked
# until the commit (claims and commands wait)
CHUNK_REVISIONS = {dialect: f"SELECT id, settings_rev, 0 FROM paper_session{hint} "
                            "WHERE id BETWEEN ? AND ? AND status = ?"
                   for dialect, hint in (("sqlite", " NOT INDEXED"), ("postgresql", ""))}
CHUNK_LEASED = ("SELECT p.id, p.settings_rev, l.epoch FROM paper_session p JOIN session_lease l "
                "ON l.session_id = p.id WHERE p.status = ? AND l.worker_id = ? "
                "AND p.id BETWEEN ? AND ? ORDER BY p.id FOR UPDATE")
RUNNING = str(SessionStatus.RUNNING)
Describe = Callable[[list[Batch]], list[EventRow]]  # the events a commit's batches raise


@dataclass
class Committed:
    """What one commit wrote: the batches kept, their fill rows and their events."""

    batches: list[Batch] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)


class SessionBook:
    """The running sessions this engine trades, loaded from and committed to the database.

    With `worker` (PostgreSQL workers) only the sessions whose lease that worker holds: each
    commit locks their rows and checks the lease epoch each clock was loaded under, in the
    same transaction, so a worker whose lease was taken over can never commit for it."""

    def __init__(self, db: Engine, logger=None, worker: str | None = None):
        self.db = db
        self.worker = worker
        self.cache = BarCache(db)
        self.clocks: dict[int, SessionClock] = {}
        self.logger = logger
        self.counts = {"orders": 0, "fills": 0, "bars": 0}
        self.failed: dict[int, str] = {}  # sessions whose own strategy failed, and why
        self.news_seen: int | None = None  # the newest headline score live sessions were given
        self.collected_at = float("-inf")  # when a freeze last ran a full collection first
        self.ticks = 0  # execution ticks so far: whose checkpoint is due (CHECKPOINT_TICKS)

    # ------------------------------------------------------------ loading (strategy stage)

    def _mine(self, query):
        """`query` narrowed to the sessions this worker holds (all of them with no worker)."""
        if self.worker is None:
            return query
        return query.where(PaperSession.id.in_(select(SessionLease.session_id).where(
            SessionLease.worker_id == self.worker)))

    def sync(self, now: float) -> int:
        """Load newly running sessions (and ones whose settings or lease changed), drop the
        others, and take speed changes; return how many were (re)loaded."""
        with session_scope(self.db) as s:
            rows = {r[0]: r for r in (
                select_raw(s, RUNNING_CLOCKS, (RUNNING,)) if self.worker is None else
                select_raw(s, LEASED_CLOCKS, (RUNNING, self.worker)))}
            for sid in set(self.clocks) - set(rows):
                del self.clocks[sid]
            clocks = self.clocks
            stale = [sid for sid, (_, rev, _, _, _, epoch) in rows.items() if sid not in clocks
                     or (clocks[sid].rev, clocks[sid].epoch) != (rev, epoch)]
            began, loaded = time.monotonic(), 0
            for start in range(0, len(stale), LOAD_BATCH):
                chunk = stale[start:start + LOAD_BATCH]
                loaded += self._load_many(s, chunk, now, {sid: rows[sid][5] for sid in chunk})
                if time.monotonic() - began > LOAD_BUDGET_S:
                    break  # the rest next tick: one tick never stalls on a mass start
        for sid, (_, _, speed, until, then, _) in rows.items():
            clock = clocks.get(sid)
            if clock is None:
                continue
            until = loaded_time(until)  # None (most clocks) costs nothing
            if (clock.speed, clock.ff_until, clock.ff_then) != (speed, until, then):
                clock.retime(speed, until, then, now)
        self.fail_faulted()
        if loaded:
            self._freeze(now)
        return loaded

    def _freeze(self, now: float) -> None:
        """Take the loaded sessions out of the cycle collector's sight (gc_pause)."""
        collect_first = now - self.collected_at >= REFREEZE_S
        if collect_first:
            self.collected_at = now
        freeze_long_lived(collect_first)

    def _load_many(self, s, session_ids: list[int], now: float,
                   epochs: dict[int, int] | None = None) -> int:
        rows = list(s.execute(select(PaperSession).where(
            PaperSession.id.in_(session_ids))).scalars())
        traders, failures = load_traders(s, rows)
        unstored = set()
        for row in rows:
            trader = traders.get(row.id)
            if trader is None:
                continue
            series = self.cache.session_series(trader.settings.symbols, row.timeframe)
            empty = [symbol for symbol, (times, _) in series.items() if not times]
            if empty:  # primed now, it would miss its warm-up bars: load it once they exist
                why = (f"waiting for {', '.join(empty)} {row.timeframe} bars to be stored "
                       "(market data agent)")
                if row.wait_reason != why and row.status == SessionStatus.RUNNING:
                    row.wait_reason = why
                unstored.add(row.id)
                continue
            guarded = user_code(row.strategy)
            try:
                run_limited(guarded, trader.priming_work(), trader.prime, series,
                            row.window_from, upto=row.last_bar_at)
            except FAULTS as exc:
                failures[row.id] = reason(exc, row.strategy, trader.runner.source)
                continue
            clock = SessionClock(row.id, row.source, trader, series, row.window_from,
                                 row.window_to, row.settings_rev, row.speed, row.ff_until,
                                 row.ff_then, reason=row.wait_reason,
                                 epoch=(epochs or {}).get(row.id, 0), guarded=guarded)
            clock.retime(row.speed, row.ff_until, row.ff_then, now)
            self.clocks[row.id] = clock
        self.failed.update(failures)
        return len(rows) - len(unstored) - len(failures)

    def load(self, session_id: int) -> SessionClock | None:
        """Load one session whatever its status (fast-forward outside the engine loop); None
        while its bars are not stored."""
        with session_scope(self.db) as s:
            self._load_many(s, [session_id], time.monotonic())
        self.fail_faulted()
        return self.clocks.get(session_id)

    def release_holds(self, now: float) -> None:
        """Clear the wait reasons of running sessions and restart every clock's count from
        now (after a held stage, so nothing bursts)."""
        with session_scope(self.db) as s:
            s.execute(self._mine(update(PaperSession).where(
                PaperSession.status == SessionStatus.RUNNING,
                PaperSession.wait_reason.is_not(None))).values(wait_reason=None))
        for clock in self.clocks.values():
            clock.retime(clock.speed, clock.ff_until, clock.ff_then, now)
            clock.reason = None

    # ------------------------------------------------------------ trading (execution stage)

    def tick(self, now: float, describe: Describe | None = None) -> Committed:
        """Advance every clock at a bar-per-second speed by the bars it owes, in one commit
        (with the events `describe` finds in its batches)."""
        self.cache.refresh()
        self.news_seen = refresh_live_news(
            self.db, (c.trader for c in self.clocks.values() if c.source == "live"),
            self.news_seen)
        self.ticks += 1
        batches, waiting = [], {}
        for clock in list(self.clocks.values()):
            owed = clock.due(now) if clock.speed is not None else 0
            batch, stalled = clock.batch(), False
            if owed > 0:
                moved = self._advance(clock, owed, batch)
                if moved is None:
                    continue
                batch.complete = clock.finished
                stalled = not (moved or batch.complete)
            if not (batch.out or batch.complete):
                if stalled:
                    waiting[clock.id] = clock.waiting_for()
                continue
            if not stalled and self._quiet(batch) and (
                    clock.id // CHECKPOINT_GROUP + self.ticks) % CHECKPOINT_TICKS:
                clock.held = batch  # a stalled clock writes what it holds, then waits
            else:
                batches.append(batch)
        self.set_reasons(waiting)
        self.fail_faulted()
        return self.commit(batches, describe)

    @staticmethod
    def _quiet(batch: Batch) -> bool:
        """Only bars marked: the session's row and snapshots may wait for its checkpoint."""
        out = batch.out
        return not (out.orders or out.closed or out.filled or needs_full_row(batch))

    def _advance(self, clock: SessionClock, bars: int, batch: Batch) -> int | None:
        """Trade up to `bars` bars of `clock` into `batch`; None when its own strategy
        failed (the reason is kept for fail_faulted)."""
        try:
            return clock.advance(bars, batch.out)
        except FAULTS as exc:
            self.failed[clock.id] = reason(exc, clock.trader.settings.strategy,
                                           clock.trader.runner.source)
            return None

    def fast_forward(self, deadline: float, only: int | None = None,
                     describe: Describe | None = None) -> list[Committed]:
        """Run the `max`-speed sessions (or just session `only`, whatever its speed) in
        chunks until they finish or `deadline` passes."""
        done = []
        chosen = [c for c in self.clocks.values()
                  if (c.id == only if only is not None else c.speed is None)]
        for clock in chosen:
            while time.monotonic() < deadline and clock.id in self.clocks:
                batch = clock.batch()
                with no_cycle_collection():
                    moved = self._advance(clock, FF_CHUNK, batch)
                    if moved is None:
                        break
                    batch.complete, reached = clock.finished, clock.ff_reached
                    if moved or batch.out or batch.complete or reached:  # `reached`: retime
                        done.append(self.commit([batch], describe))
                if not (moved or batch.complete or reached):
                    self.set_reasons({clock.id: clock.waiting_for()})
                    break
                if batch.complete or reached:
                    break
        self.fail_faulted()
        return done

    def fail_faulted(self) -> None:
        """Sessions whose own strategy failed go to `error` with the reason (their clocks
        are dropped; the bars they had not committed are not written)."""
        failures, self.failed = self.failed, {}
        for sid in failures:
            self.clocks.pop(sid, None)
        fail_sessions(self.db, failures, self.logger)

    def commit(self, batches: list[Batch], describe: Describe | None = None) -> Committed:
        """Write the batches of sessions still running with the settings they were computed
        with, and the events `describe` finds in them; a session paused, stopped or
        reconfigured meanwhile is dropped and reloaded. Each COMMIT_CHUNK sessions (in id
        order) are one transaction: a command waits for one chunk's write, never a tick's."""
        result = Committed()
        batches = sorted(batches, key=lambda b: b.session_id)
        for at in range(0, len(batches), COMMIT_CHUNK):
            try:
                self._write(batches[at:at + COMMIT_CHUNK], result, describe)
            except Exception:
                for b in batches[at:]:  # traded in memory only: reload from the database
                    self.clocks.pop(b.session_id, None)
                raise
        for b in result.batches:
            self.counts["orders"] += len(b.out.orders)
            self.counts["fills"] += len(b.out.fills)
            self.counts["bars"] += len(b.out.snapshots)
        for sid in result.completed:
            self.clocks.pop(sid, None)
        return result

    def _write(self, chunk: list[Batch], result: Committed, describe: Describe | None) -> None:
        """One transaction: the chunk's sessions (ascending ids) checked, written, locked on
        PostgreSQL until the commit so a claim or a command waits."""
        with BOOK_LOCK, session_scope(self.db) as s:
            span = (chunk[0].session_id, chunk[-1].session_id)
            current = {sid: (rev, epoch) for sid, rev, epoch in (
                select_raw(s, CHUNK_REVISIONS[self.db.dialect.name], (*span, RUNNING))
                if self.worker is None else
                select_raw(s, CHUNK_LEASED, (RUNNING, self.worker, *span)))}
            kept = []
            for b in chunk:
                clock = self.clocks[b.session_id]
                if current.get(b.session_id) == (clock.rev, clock.epoch):
                    kept.append(b)
                else:
                    self.clocks.pop(b.session_id, None)
            fills = write_batches(s, kept, self.cache.stored)
            events = describe(kept) if describe is not None else []
            record_events(s, events)
            completed = []
            for b in kept:
                if self._after(s, self.clocks[b.session_id], b):
                    completed.append(b.session_id)
        result.batches += kept
        result.fills += fills
        result.events += events
        result.completed += completed

    def _after(self, s, clock: SessionClock, batch: Batch) -> bool:
        """Complete a session at the end of its window (say so); switch speed after a
        fast-forward."""
        if batch.complete:
            row = s.get(PaperSession, clock.id)
            transition(s, row, "complete", logger=self.logger,
                       note=f"window ended at {clock.end:%Y-%m-%d %H:%M} after "
                            f"{clock.trader.ledger.bars_done} bars")
            row.wait_reason = None
            clock.reason = None
            return True
        if clock.ff_reached:
            s.execute(update(PaperSession).where(PaperSession.id == clock.id).values(
                speed=clock.ff_then, ff_until=None, ff_then=None))
            record_event(s, f"session-{clock.id}", "speed",
                         f"session {clock.id}: fast-forwarded to {clock.ff_until:%Y-%m-%d %H:%M};"
                         f" now {clock.ff_then:g} bars/s")
            clock.retime(clock.ff_then, None, None, time.monotonic())
        clock.reason = None
        return False

    def hold(self, reason: str) -> int:
        """Mark the running sessions of this book as waiting for `reason` (a stage of the
        pipeline is stopped); return how many changed."""
        with session_scope(self.db) as s:
            return s.execute(self._mine(update(PaperSession).where(
                PaperSession.status == SessionStatus.RUNNING,
                (PaperSession.wait_reason.is_(None)) | (PaperSession.wait_reason != reason)))
                .values(wait_reason=reason)).rowcount or 0

    def set_reasons(self, reasons: dict[int, str | None]) -> None:
        """Say why running sessions are waiting (written only when it changes)."""
        reasons = {sid: why for sid, why in reasons.items()
                   if sid not in self.clocks or self.clocks[sid].reason != why}
        if not reasons:
            return
        with session_scope(self.db) as s:
            for sid, why in reasons.items():
                s.execute(update(PaperSession).where(
                    PaperSession.id == sid, PaperSession.status == SessionStatus.RUNNING)
                    .values(wait_reason=why))
                if sid in self.clocks:
                    self.clocks[sid].reason = why




def run_to_end(db: Engine, session_id: int) -> int:
    """Fast-forward one running replay session through the rest of its window in this
    process (benchmarks and tests; the engine does the same for `max`-speed sessions).
    Return the bars traded."""
    book = SessionBook(db)
    clock = book.load(session_id)
    if clock is None:
        return 0
    before = clock.trader.ledger.bars_done
    book.fast_forward(float("inf"), only=session_id)
    return clock.trader.ledger.bars_done - before
