"""Reads of sweeps for the dashboard and CLI: the list, one sweep's document and ranked
variants, its paper sessions, and how a paper session compares with its variant."""

import math
from bisect import bisect_right

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.core.fill_models import DEFAULT_PRESET
from engine.core.lifecycle import TERMINAL_SWEEP, allowed_actions
from engine.errors import NotFound
from engine.params import session_key, sweep_key, whole
from engine.reads.curve import per_bar_curve, stored_curve
from engine.reads.records import SweepDocument
from engine.store.models import EquitySnapshot, Fill, PaperSession, Sweep, SweepVariant

SWEEP_COLUMNS = ("id", "name", "status", "done", "total", "created_at", "finished_at",
                 "archived", "cancel_requested", "wait_reason", "error")
FIGURES = ("return_pct", "buy_hold_pct", "sharpe", "max_drawdown_pct", "trades",
           "profit_factor", "in_sample_pct", "out_sample_pct")


def sweeps(db: Engine, include_archived: bool = False, limit: int = 200) -> pd.DataFrame:
    """Latest sweeps first, with their progress."""
    limit = whole(limit, "limit", 1, 100_000)
    query = select(*(getattr(Sweep, c) for c in SWEEP_COLUMNS)).order_by(Sweep.id.desc())
    if not include_archived:
        query = query.where(Sweep.archived.is_(False))
    with Session(db) as s:
        return pd.DataFrame(s.execute(query.limit(limit)).all(), columns=list(SWEEP_COLUMNS))


def sweep_document(db: Engine, sweep_id) -> SweepDocument:
    """One sweep: state, progress, spec, window and what may be done with it."""
    with Session(db) as s:
        sweep = s.get(Sweep, sweep_key(sweep_id))
        if sweep is None:
            raise NotFound(f"no sweep {sweep_id}")
    session = sweep.spec["session"]
    cancellable = not sweep.cancel_requested and "cancel" in allowed_actions("sweep",
                                                                             sweep.status)
    return SweepDocument(
        id=sweep.id, name=sweep.name, status=sweep.status, done=sweep.done,
        total=sweep.total, skipped=sweep.spec.get("skipped", 0),
        progress_pct=sweep.done / sweep.total * 100 if sweep.total else None,
        strategy=session["strategy"], symbols=session["symbols"].split(","),
        timeframe=session["timeframe"], window_from=session["from"],
        window_to=session["to"], split_at=sweep.split_at, grid=sweep.spec["grid"],
        fill_model=session.get("fill_model", DEFAULT_PRESET),
        cancel_requested=sweep.cancel_requested, archived=sweep.archived,
        error=sweep.error, wait_reason=sweep.wait_reason, runner=sweep.runner,
        created_at=sweep.created_at, started_at=sweep.started_at,
        finished_at=sweep.finished_at, can_cancel=cancellable,
        can_archive=sweep.status in TERMINAL_SWEEP)


def variants(db: Engine, sweep_id) -> pd.DataFrame:
    """The finished variants, best first: rank, session id, each grid value as a column, and
    their figures. Ranked by in-sample return when the sweep has a split (the choice is made
    on the train bars; the test bars then say whether it held), else by return."""
    key = sweep_key(sweep_id)
    with Session(db) as s:
        split = s.execute(select(Sweep.split_at).where(Sweep.id == key)).scalar()
        rows = s.execute(select(SweepVariant).where(SweepVariant.sweep_id == key)).scalars()
        records = [{"idx": v.idx, "session_id": v.session_id, **v.values,
                    **{f: getattr(v, f) for f in FIGURES}} for v in rows]
    frame = pd.DataFrame(records, columns=["idx", "session_id", *FIGURES]
                         if not records else None)
    by = "in_sample_pct" if split is not None else "return_pct"
    frame = frame.sort_values([by, "idx"], ascending=[False, True], kind="stable")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def paper_sessions(db: Engine, sweep_id) -> pd.DataFrame:
    """The paper sessions started from the sweep's variants."""
    key = sweep_key(sweep_id)
    variant = PaperSession.__table__.alias("variant")
    with Session(db) as s:
        rows = s.execute(select(PaperSession.id, PaperSession.name, PaperSession.status,
                                PaperSession.source, PaperSession.origin_session_id)
                         .join(variant, variant.c.id == PaperSession.origin_session_id)
                         .where(variant.c.sweep_id == key).order_by(PaperSession.id)).all()
    return pd.DataFrame(rows, columns=["id", "name", "status", "source", "origin_session_id"])


def top_curves(db: Engine, session_ids: list[int]) -> pd.DataFrame:
    """Sweep variants' equity as % from their starting cash over market time, at the display
    resolution each stored (engine.core.curve: every peak and trough kept; a chart needs no
    recompute): `ts`, `pct_from_start`, `session`."""
    frames = []
    with Session(db) as s:
        for session_id in session_ids:
            row = s.get(PaperSession, session_key(session_id))
            if row is None:
                raise NotFound(f"no session {session_id}")
            points = stored_curve(s, row.id)
            frames.append(pd.DataFrame({
                "ts": [p[0] for p in points], "session": f"#{row.id} {row.name}",
                "pct_from_start": [(p[2] / row.starting_cash - 1) * 100 for p in points]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["ts", "session", "pct_from_start"])


def _fills(s: Session, session_id: int, start, end) -> list[tuple]:
    return s.execute(select(Fill.bar_ts, Fill.symbol, Fill.side, Fill.qty, Fill.price)
                     .where(Fill.session_id == session_id, Fill.bar_ts >= start,
                            Fill.bar_ts <= end).order_by(Fill.bar_ts, Fill.id)).all()


def _equity_at(s: Session, session_id: int, ts) -> float | None:
    return s.execute(select(EquitySnapshot.equity).where(
        EquitySnapshot.session_id == session_id, EquitySnapshot.ts <= ts)
        .order_by(EquitySnapshot.ts.desc()).limit(1)).scalar()


def _variant_equity_at(db: Engine, session_id: int, ts) -> float | None:
    """A sweep variant's equity at its last bar at or before `ts`, from its per-bar curve."""
    curve = per_bar_curve(db, session_id)
    at = bisect_right([point[0] for point in curve], ts)
    return curve[at - 1][2] if at else None


def origin_comparison(db: Engine, session_id) -> dict | None:
    """How a paper session compares with the sweep variant it graduated from over the bars
    both traded: fills matched one for one (time, symbol, side, quantity, price) and each
    one's return over those bars. None for a session that did not come from a sweep."""
    with Session(db) as s:
        paper = s.get(PaperSession, session_key(session_id))
        if paper is None:
            raise NotFound(f"no session {session_id}")
        if paper.origin_session_id is None:
            return None
        variant = s.get(PaperSession, paper.origin_session_id)
        start = max(paper.window_from or variant.window_from, variant.window_from)
        end = min(paper.last_bar_at or start, variant.window_to)
        shared = 0 if paper.last_bar_at is None or end < start else s.execute(
            select(func.count()).select_from(EquitySnapshot).where(
                EquitySnapshot.session_id == paper.id, EquitySnapshot.ts >= start,
                EquitySnapshot.ts <= end)).scalar_one()
        expected = _fills(s, variant.id, start, end) if shared else []
        actual = _fills(s, paper.id, start, end) if shared else []
        returns = {paper.id: _equity_at(s, paper.id, end)}
    returns[variant.id] = _variant_equity_at(db, variant.id, end) if shared else None
    matched = sum(1 for a, b in zip(expected, actual, strict=False)
                  if a[:3] == b[:3] and math.isclose(a[3], b[3], rel_tol=1e-9)
                  and math.isclose(a[4], b[4], rel_tol=1e-9))
    total = max(len(expected), len(actual))
    cash = variant.starting_cash
    return {
        "session_id": paper.id, "origin_session_id": variant.id, "sweep_id": variant.sweep_id,
        "shared_bars": shared, "from": start if shared else None, "to": end if shared else None,
        "expected": len(expected), "actual": len(actual), "matched": matched,
        "match_pct": 100.0 if total == 0 else matched / total * 100,
        "paper_return_pct": None if not shared or returns[paper.id] is None
        else (returns[paper.id] / cash - 1) * 100,
        "variant_return_pct": None if not shared or returns[variant.id] is None
        else (returns[variant.id] / cash - 1) * 100,
    }
