"""Every bar's equity of a session. A sweep variant stores its orders, fills and figures and
its equity curve at display resolution (engine.core.curve): its per-bar curve is a pure function
of its bars, settings and window, so the core recomputes it here on demand (Compare, reports,
exports, overfitting odds), checked bar-exact against what the variant stored — the same fills
(bar, symbol, side, quantity, price) and the same cash and equity at every stored point. Any
other session stores one snapshot a bar and is read as stored."""

from functools import lru_cache

from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.core.curve import Snapshot
from engine.errors import NotReproducible
from engine.params import session_key
from engine.store.models import EquitySnapshot, Fill, PaperSession, SweepVariant

CACHED = 8  # recomputed curves kept per process (a variant's curve never changes)


def display_only(s: Session, session_id: int) -> bool:
    """Whether the session stores its curve at display resolution only (a sweep variant)."""
    return s.execute(select(SweepVariant.idx).where(SweepVariant.session_id == session_id)
                     .limit(1)).first() is not None


def stored_curve(s: Session, session_id: int, limit: int | None = None) -> list[Snapshot]:
    """The session's latest `limit` equity snapshots as stored (None: all), as (ts, cash,
    equity), oldest first."""
    rows = s.execute(select(EquitySnapshot.ts, EquitySnapshot.cash, EquitySnapshot.equity)
                     .where(EquitySnapshot.session_id == session_id)
                     .order_by(EquitySnapshot.ts.desc()).limit(limit)).all()
    return [tuple(r) for r in reversed(rows)]


def per_bar_curve(db: Engine, session_id, limit: int | None = None) -> list[Snapshot]:
    """(ts, cash, equity) at each of the latest `limit` bars the session traded (None: all),
    oldest first: as stored, or for a sweep variant recomputed by the core (NotReproducible
    if that differs from its stored fills or points)."""
    key = session_key(session_id)
    with Session(db) as s:
        if not display_only(s, key):
            return stored_curve(s, key, limit)
    curve = _recomputed(db, key)
    return list(curve if limit is None else curve[-limit:])


@lru_cache(maxsize=CACHED)
def _recomputed(db: Engine, key: int) -> tuple[Snapshot, ...]:
    with Session(db) as s:
        row = s.get(PaperSession, key)
        points = stored_curve(s, key)
        fills = s.execute(select(Fill.bar_ts, Fill.symbol, Fill.side, Fill.qty, Fill.price)
                          .where(Fill.session_id == key).order_by(Fill.id)).all()
    # imported here: the core and the bar cache load only when a curve is recomputed, so the
    # read commands that import this module start as fast as before
    from engine.reads.reconcile import initial_settings, rerun

    out, _ = rerun(db, row, initial_settings(row), row.last_bar_at)
    again = [(f.bar_ts, f.symbol, f.side, f.qty, f.price) for f in out.fills]
    for want, have in zip(again, fills, strict=False):
        if tuple(want) != tuple(have):
            raise NotReproducible(f"session {key}: the recomputed fill at {want[0]:%Y-%m-%d %H:%M}"
                                  f" differs from the stored one at {have[0]:%Y-%m-%d %H:%M}")
    if len(again) != len(fills):
        raise NotReproducible(f"session {key}: recomputed {len(again)} fills, stored "
                              f"{len(fills)}")
    by_time = {snapshot[0]: snapshot for snapshot in out.snapshots}
    for point in points:
        if by_time.get(point[0]) != point:
            raise NotReproducible(f"session {key}: the recomputed equity at "
                                  f"{point[0]:%Y-%m-%d %H:%M} differs from the stored point")
    return tuple(out.snapshots)
