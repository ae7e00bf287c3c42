"""Sweeps: a grid of one strategy's variants over one window, and the variants that graduate to
paper trading. The API the dashboard and the CLI call (reads are in engine.reads.sweeps).

A sweep is a row: the dashboard or CLI creates it (queued) and may cancel it; the engine runs
it (engine.sweeps.runner: on SQLite in a local process pool, on PostgreSQL as one job per variant
on the job queue any worker takes, engine.fleet.jobs; each finished variant is written as a
completed session in one transaction). Its lifecycle is engine.core.lifecycle.SWEEP_TRANSITIONS.

Graduation ("Start as paper session"): a replay paper session with exactly the variant's
settings that *re-plays the variant's window at max speed and then continues* past its end at
the chosen speed (ff_until = the window's last bar). The shared bars are therefore the whole
variant window: a session's orders and fills are a function of settings, data and window only,
so over those bars the paper session's fills equal the variant's, and the state it carries
past the window (cash, holdings, working orders, indicators) is the variant's own — which is
what "continuing from the end of the sweep window" means. A live paper session starts now with
the variant's settings and shares no bars with the (historical) variant; Reconcile then
compares it with the same settings' fast-forward of its own bars.
"""

from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session

from engine.control import queueing
from engine.control.outcome import Outcome
from engine.control.session_spec import validate_session
from engine.control.sweep_spec import validate_sweep
from engine.control.transitions import transition
from engine.control.windows import SOURCES
from engine.core.fill_models import FILL_FIELDS
from engine.core.lifecycle import TERMINAL_SWEEP, SweepStatus
from engine.errors import BadInput, NotAllowed, NotFound, shown
from engine.params import actor, session_key, sweep_key
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import PaperSession, Sweep
from engine.store.plainsql import AlchemySql


def locked_sweep(s: Session, sweep_id: int) -> Sweep | None:
    """The sweep row, locked for this transaction on PostgreSQL (FOR NO KEY UPDATE; SQLite has
    no row locks and SQLAlchemy leaves the clause out): it waits for another writer of the row,
    never for the variant writes whose inserts reference it (their foreign keys share-lock it;
    a FOR UPDATE waited behind them until the sweep ended)."""
    return s.get(Sweep, sweep_id, with_for_update={"key_share": True})


def _sweep(s: Session, sweep_id: Any) -> Sweep:
    key = sweep_key(sweep_id)
    sweep = locked_sweep(s, key)
    if sweep is None:
        raise NotFound(f"no sweep {key}")
    return sweep


def create_sweep(db: Engine, spec: dict[str, Any], by: str = "cli") -> Outcome:
    """Check a sweep spec (engine.control.sweep_spec) and queue the sweep for the engine."""
    by = actor(by)
    checked = validate_sweep(db, spec)
    with session_scope(db) as s:
        sweep = Sweep(name=checked["name"], total=checked["total"],
                      split_at=checked["split_at"], requested_by=by[:100],
                      spec={"session": checked["session"], "grid": checked["grid"],
                            "skipped": checked["skipped"],
                            "walk_forward": checked["walk_forward"]})
        s.add(sweep)
        s.flush()
        grid = ", ".join(f"{k} ×{len(v)}" for k, v in checked["grid"].items())
        record_event(s, f"sweep-{sweep.id}", "created",
                     f"sweep {sweep.id} ({sweep.name}) queued by {by}: {sweep.total} variants "
                     f"of {checked['session']['strategy']} ({grid})")
        skipped = checked["skipped"]
        return Outcome(f"sweep {sweep.id} queued: {checked['total']} variants"
                       + (f" ({skipped} combinations the strategy refused)" if skipped else ""),
                       id=sweep.id)


def cancel_sweep(db: Engine, sweep_id: Any, by: str = "cli") -> Outcome:
    """Cancel a sweep: a queued one at once; a running one is asked to stop (its engine stops
    the remaining variants; the variants already written stay, each whole)."""
    by = actor(by)
    with session_scope(db) as s:
        sweep = _sweep(s, sweep_id)
        if sweep.status == SweepStatus.RUNNING:
            if sweep.cancel_requested:
                raise NotAllowed(f"sweep {sweep.id} is already being cancelled")
            sweep.cancel_requested = True
            s.add(sweep)
            message = (f"sweep {sweep.id}: cancel requested by {by} after "
                       f"{sweep.done}/{sweep.total} variants")
            record_event(s, f"sweep-{sweep.id}", "cancel", message)
            return Outcome(message)
        transition(s, sweep, "cancel", note=f"by {by}")
        return Outcome(f"sweep {sweep.id} cancelled by {by}")


def archive_sweep(db: Engine, sweep_id: Any, archived: bool = True,
                  by: str = "cli") -> Outcome:
    """Hide (or show again) a finished sweep and all its variant sessions as one unit."""
    by, archived = actor(by), bool(archived)
    with session_scope(db) as s:
        sweep = _sweep(s, sweep_id)
        if sweep.status not in TERMINAL_SWEEP:
            raise NotAllowed(f"cannot archive sweep {sweep.id}: it is {sweep.status}; cancel "
                             "it first")
        sweep.archived = archived
        s.add(sweep)
        changed = s.execute(update(PaperSession).where(PaperSession.sweep_id == sweep.id)
                            .values(archived=archived)).rowcount or 0
        verb = "archived" if archived else "unarchived"
        message = (f"sweep {sweep.id} ({sweep.name}) {verb} by {by} with its {changed} "
                   "sessions")
        record_event(s, f"sweep-{sweep.id}", verb, message)
        return Outcome(message)


def variant_spec(v: PaperSession) -> dict[str, Any]:
    """A session spec with exactly the variant's settings (no window, no source)."""
    fills = {f: getattr(v, f) for f in FILL_FIELDS}
    fills |= {"volume_cap_pct": fills["volume_cap_pct"] or 0,
              "cancel_after_bars": fills["cancel_after_bars"] or 0}
    return {"name": f"paper: {v.name}"[:100], "strategy": v.strategy, "symbols": v.symbols,
            "timeframe": v.timeframe, "params": dict(v.params), "cash": v.starting_cash,
            "position_size": v.position_size, "stop_loss_pct": v.stop_loss_pct or 0,
            "take_profit_pct": v.take_profit_pct or 0, "sentiment": v.sentiment,
            "fill_model": v.fill_model, **fills}


def start_as_paper(db: Engine, variant_id: Any, source: str = "replay", speed: Any = "1",
                   to: Any = None, start: bool = True, by: str = "cli") -> Outcome:
    """Create (and with `start`, start) a paper session with a sweep variant's settings.

    replay: it re-plays the variant's window at max speed, then trades on from the window's
    end through `to` (default: the end of the data) at `speed` bars/s; live: it trades bars as
    they arrive. Either way it is linked to the variant (origin_session_id)."""
    by = actor(by)
    source = str(source or "replay").strip().lower()
    if source not in SOURCES:
        raise BadInput(f"source must be one of {', '.join(SOURCES)} (got {shown(source)})")
    key = session_key(variant_id)
    with Session(db) as s:
        variant = s.get(PaperSession, key)
        if variant is None:
            raise NotFound(f"no session {key}")
        if variant.sweep_id is None:
            raise BadInput(f"session {variant.id} is not a sweep variant")
    spec = {**variant_spec(variant), "source": source, "speed": speed}
    if source == "replay":
        spec |= {"from": variant.window_from, "to": to}
    fields = validate_session(db, spec)
    if source == "replay":
        if fields["window_to"] <= variant.window_to:
            raise BadInput(f"to: the variant's window ends {variant.window_to:%Y-%m-%d %H:%M};"
                           " a paper session continues after it (choose a later to, or live)")
        after = fields["speed"]  # None (max): fast-forward through the rest as well
        fields |= {"speed": None, "ff_until": variant.window_to if after else None,
                   "ff_then": after}
    sid, command = add_paper_session(
        db, PaperSession(**fields, origin_session_id=variant.id), by, start,
        f"from sweep {variant.sweep_id} variant session {variant.id} ({source})")
    return Outcome(f"session {sid} created from variant {variant.id}"
                   + (", start queued" if start else ""), command=command, id=sid)


def add_paper_session(db: Engine, row: PaperSession, by: str, start: bool,
                      origin: str) -> tuple[int, int | None]:
    """Insert a paper session made from a sweep, record its creation ('created by `by`
    `origin`') and, with `start`, queue its start; (its id, the start command's id)."""
    with session_scope(db) as s:
        s.add(row)
        s.flush()
        record_event(s, f"session-{row.id}", "created",
                     f"session {row.id} ({row.name}) created by {by} {origin}")
        command = (queueing.queue_command(AlchemySql(s.connection()), "session",
                                          str(row.id), "start", {}, by)
                   if start else None)
        return row.id, command

