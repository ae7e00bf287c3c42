"""What a walk-forward sweep must be: `walk_forward` (train=N,test=M[,step=S][,anchored], in
bars of the sweep's window) and an `objective` that picks each fold's variant on its train
bars. Stored in the sweep's spec; engine.sweeps.walk runs it."""

from typing import Any

from engine.analytics.walkforward import folds, parse_walk_forward
from engine.core.selection import DEFAULT_OBJECTIVE, OBJECTIVES
from engine.errors import BadInput


def _given(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def check_walk_forward(raw: dict[str, Any], bars: int, split: Any) -> dict[str, Any] | None:
    """The walk-forward of a sweep spec over a window of `bars` bar times, or None for a plain
    sweep; the first bad field named."""
    if not _given(raw.get("walk_forward")):
        if _given(raw.get("objective")):
            raise BadInput("objective: only a walk-forward sweep has one (give walk_forward "
                           "too)")
        return None
    if split is not None:
        raise BadInput("walk_forward: a walk-forward sweep has no split (its test folds are "
                       "the out-of-sample bars)")
    spec = parse_walk_forward(str(raw["walk_forward"]))
    objective = str(raw.get("objective") or DEFAULT_OBJECTIVE).strip().lower()
    if objective not in OBJECTIVES:
        raise BadInput(f"objective must be one of {', '.join(OBJECTIVES)} (got {objective!r})")
    laid = folds(spec, bars)
    return {"train": spec.train_bars, "test": spec.test_bars, "step": spec.step_bars,
            "anchored": spec.anchored, "objective": objective, "folds": len(laid)}
