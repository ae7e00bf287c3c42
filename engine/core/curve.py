"""An equity curve at display resolution: what a sweep variant stores of its per-bar curve (the
core recomputes every bar on demand, engine.reads.curve).

Min/max buckets: the bars are cut into equal runs and each run keeps its lowest and its highest
equity, in time order, so a chart of the kept points shows every peak and trough the per-bar
curve has; the first and the last bar are always kept."""

from datetime import datetime

DISPLAY_POINTS = 2_000  # at most this many points of a stored display curve

Snapshot = tuple[datetime, float, float]  # bar time, cash, equity (quote currency)


def display_curve(snapshots: list[Snapshot], points: int = DISPLAY_POINTS) -> list[Snapshot]:
    """At most `points` (≥ 4) of `snapshots` (in time order): all of them when they fit, else
    the first, the last, and the lowest and highest equity of each of (points − 2) / 2 equal
    runs of the bars between, in time order."""
    if points < 4:
        raise ValueError(f"points must be at least 4, not {points}")
    if len(snapshots) <= points:
        return list(snapshots)
    inner, buckets = len(snapshots) - 2, (points - 2) // 2
    kept = {0, len(snapshots) - 1}
    equities = [equity for _, _, equity in snapshots]
    for b in range(buckets):
        lo, hi = 1 + b * inner // buckets, 1 + (b + 1) * inner // buckets
        run = equities[lo:hi]  # the first lowest and the first highest of the run
        kept.add(lo + run.index(min(run)))
        kept.add(lo + run.index(max(run)))
    return [snapshots[i] for i in sorted(kept)]


RETURN_BLOCKS = 16  # contiguous runs of bar returns a variant keeps sums of (overfitting odds)


def return_blocks(equities: list[float], blocks: int = RETURN_BLOCKS) -> list[list[float]]:
    """[bar returns, their sum, their sum of squares] of each of `blocks` contiguous runs of
    the bar returns (each bar's equity ÷ the previous bar's − 1; the runs' lengths differ by at
    most one, the longer first, as numpy's array_split cuts them); none over fewer returns
    than `blocks`. What the probability of backtest overfitting needs of a variant's curve."""
    returns = [now / before - 1 for before, now in zip(equities, equities[1:], strict=False)]
    if len(returns) < blocks:
        return []
    size, longer = divmod(len(returns), blocks)
    kept, start = [], 0
    for b in range(blocks):
        run = returns[start:start + size + (b < longer)]
        start += len(run)
        kept.append([len(run), sum(run), sum(r * r for r in run)])
    return kept
