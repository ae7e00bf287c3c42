"""How `sweep show` prints a walk-forward (engine.reads.walk_forward.WalkForwardResult)."""

from dataclasses import asdict


def walk_document(walk) -> dict | None:
    """The walk-forward as JSON: its layout, overall figures and folds (not its curve)."""
    if walk is None:
        return None
    values = {k: v for k, v in asdict(walk).items() if k not in ("folds", "curve")}
    return {**values, "folds": walk.folds.to_dict("records")}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}%"


def walk_text(walk) -> str:
    """The walk-forward as lines: layout, overall figures, one line per fold."""
    kind = "anchored" if walk.anchored else "rolling"
    lines = [f"walk-forward ({kind}): train {walk.train_bars:,} bars, test {walk.test_bars:,}, "
             f"step {walk.step_bars:,}; {walk.expected_folds} folds chosen by "
             f"{walk.objective}"]
    if walk.folds.empty:
        lines.append("  no folds yet: they are run once every variant is")
        return "\n".join(lines)
    ratio = "—" if walk.efficiency is None else f"{walk.efficiency:.2f}"
    lines.append(f"  out-of-sample {_pct(walk.out_sample_pct)} (stitched), buy & hold "
                 f"{_pct(walk.buy_hold_pct)}, best in-sample variant (idx {walk.best_variant}) "
                 f"{_pct(walk.best_in_sample_pct)} over the same bars; in-sample "
                 f"{_pct(walk.in_sample_pct)}; efficiency {ratio}")
    for f in walk.folds.itertuples():
        lines.append(f"  fold {f.fold}: train {f.train_from:%Y-%m-%d %H:%M} – "
                     f"{f.train_to:%Y-%m-%d %H:%M}, test {f.test_from:%Y-%m-%d %H:%M} – "
                     f"{f.test_to:%Y-%m-%d %H:%M}: idx {f.variant_idx} ({f.params}) "
                     f"in-sample {_pct(f.in_sample_pct)}, out-of-sample "
                     f"{_pct(f.out_sample_pct)} (session {f.session_id})")
    lines.append(f"  {walk.meaning}")
    return "\n".join(lines)
