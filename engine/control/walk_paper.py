"""A walk-forward sweep's rule graduated to paper: a session that trades the sweep's strategy
and re-selects its parameters among the sweep's variants on the sweep's schedule
(engine.core.walk_rule), on past the bars the sweep was built on.

A replay session starts at the sweep's first out-of-sample bar, so it re-plays the folds'
test bars at max speed (choosing at each fold's boundary what that fold chose) and then trades
on past the sweep's window at the chosen speed; a live session trades bars as they arrive, its
first choice made on the stored bars before it starts. Reconcile replays the same rule.
"""

from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from engine.control.outcome import Outcome
from engine.control.session_spec import validate_session
from engine.control.sweeps import add_paper_session, variant_spec
from engine.control.windows import SOURCES
from engine.core.bars import bars_per_year
from engine.core.lifecycle import SweepStatus
from engine.core.settings import WalkRule
from engine.errors import BadInput, NotFound, shown
from engine.market import catalog
from engine.params import actor, sweep_key
from engine.store.models import PaperSession, Sweep, SweepVariant
from engine.store.walk_forward import WalkForwardFold


def _parts(db: Engine, sweep_id: Any) -> tuple[Sweep, list[PaperSession], list[WalkForwardFold]]:
    """A completed rolling walk-forward sweep, its variants' sessions (in grid order) and its
    folds; refused with one line otherwise."""
    key = sweep_key(sweep_id)
    with Session(db) as s:
        sweep = s.get(Sweep, key)
        if sweep is None:
            raise NotFound(f"no sweep {key}")
        walk = (sweep.spec or {}).get("walk_forward")
        if walk is None:
            raise BadInput(f"sweep {key} is not a walk-forward sweep (its rule is what a "
                           "session trades; create one with --walk-forward)")
        if walk["anchored"]:
            raise BadInput(f"sweep {key} is anchored: its rule trains on every bar since the "
                           "sweep's start, which no session can carry forward; graduate a "
                           "rolling walk-forward")
        if sweep.status != SweepStatus.COMPLETED:
            raise BadInput(f"sweep {key} is {sweep.status}; its rule can trade once it has "
                           "completed")
        variants = list(s.execute(
            select(PaperSession).join(SweepVariant, SweepVariant.session_id == PaperSession.id)
            .where(SweepVariant.sweep_id == key).order_by(SweepVariant.idx)).scalars())
        folds = list(s.execute(select(WalkForwardFold).where(WalkForwardFold.sweep_id == key)
                               .order_by(WalkForwardFold.idx)).scalars())
    return sweep, variants, folds


def _fixed(variants: list[PaperSession]) -> dict[str, Any]:
    """The settings every variant shares (all but the strategy parameters); refused when the
    grid varies a fill setting, which a rule of parameters cannot choose."""
    specs = [variant_spec(v) for v in variants]
    for spec in specs[1:]:
        varied = sorted(k for k in spec if k not in ("name", "params") and spec[k] != specs[0][k])
        if varied:
            raise BadInput(f"the sweep varies {', '.join(varied)}; only a grid of strategy "
                           "parameters can be traded as a rule")
    return specs[0]


def start_walk_forward(db: Engine, sweep_id: Any, source: str = "replay", speed: Any = "1",
                       to: Any = None, start: bool = True, by: str = "cli") -> Outcome:
    """Create (and with `start`, start) a paper session that trades a completed rolling
    walk-forward sweep's rule: replay from its first out-of-sample bar at max speed and on past
    its window through `to` (default: the end of the data) at `speed` bars/s, or live."""
    by = actor(by)
    source = str(source or "replay").strip().lower()
    if source not in SOURCES:
        raise BadInput(f"source must be one of {', '.join(SOURCES)} (got {shown(source)})")
    sweep, variants, folds = _parts(db, sweep_id)
    walk = sweep.spec["walk_forward"]
    fixed = _fixed(variants)
    rule = WalkRule(tuple(dict(v.params) for v in variants), walk["train"], walk["step"],
                    walk["objective"], bars_per_year(catalog.asset_class(
                        variants[0].symbols.split(",")[0], variants[0].timeframe),
                        variants[0].timeframe))
    spec = {**fixed, "params": dict(variants[folds[-1].variant_idx].params),
            "name": f"walk-forward: {sweep.name}"[:100], "source": source, "speed": speed}
    if source == "replay":
        spec |= {"from": folds[0].test_from, "to": to}
    fields = validate_session(db, spec)
    if source == "replay":
        if fields["window_to"] <= folds[-1].test_to:
            raise BadInput(f"to: the sweep's window ends {folds[-1].test_to:%Y-%m-%d %H:%M}; "
                           "its rule trades on after it (choose a later to, or live)")
        after = fields["speed"]  # None (max): fast-forward through the rest as well
        fields |= {"speed": None, "ff_until": folds[-1].test_to if after else None,
                   "ff_then": after}
    sid, command = add_paper_session(
        db, PaperSession(**fields, walk_rule=rule.as_dict()), by, start,
        f"from the walk-forward rule of sweep {sweep.id} ({source}), re-selecting among "
        f"{len(variants)} variants every {walk['step']} bars")
    return Outcome(f"session {sid} created from the walk-forward rule of sweep {sweep.id}"
                   + (", start queued" if start else ""), command=command, id=sid)
