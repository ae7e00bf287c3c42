"""Monte-Carlo bootstrap of a backtest's trades: how the result could have come out had the
same trades arrived in another order and mix."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import BadInput

MAX_PATHS = 100_000
BATCH_TRADES = 1 << 20  # resampled trades held at once (paths per batch × trades per path)


@dataclass(frozen=True, slots=True)
class Percentiles:
    """The 5th, 50th and 95th percentiles of a per-path figure (numpy's linear method)."""

    p5: float
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class MonteCarlo:
    """The bootstrap's result; with no trades there is nothing to resample and every figure is
    None. Returns and drawdowns are fractions (0.1 = +10 %, a drawdown 0.2 = −20 % of a peak)."""

    n: int  # paths
    seed: int
    trades: int  # per path, as in the original
    starting_equity: float
    final_return: Percentiles | None
    max_drawdown: Percentiles | None
    probability_below_start: float | None  # share of paths that end below the start
    final_returns: np.ndarray  # per path, read-only (empty with no trades)
    max_drawdowns: np.ndarray  # per path, read-only

    @property
    def final_equities(self) -> np.ndarray:
        """Per path, the equity at the end, in the unit of `starting_equity`."""
        return self.starting_equity * (1 + self.final_returns)


def _returns(trade_returns: Sequence[float]) -> np.ndarray:
    try:
        returns = np.asarray(trade_returns, dtype=float)
    except (TypeError, ValueError):
        raise BadInput("monte-carlo trade returns must be numbers") from None
    if returns.ndim != 1:
        raise BadInput("monte-carlo trade returns must be a flat sequence, one per trade")
    bad = ~(np.isfinite(returns) & (returns > -1))
    if bad.any():
        first = int(bad.argmax())
        raise BadInput(f"monte-carlo trade return must be a finite fraction > -1 (-1 loses "
                       f"everything); trade {first} is {float(returns[first])!r}")
    return returns


def _check(n: int, seed: int, starting_equity: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PATHS:
        raise BadInput(f"monte-carlo n must be a whole number of paths from 1 to {MAX_PATHS} "
                       f"(got {n!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BadInput(f"monte-carlo seed must be a whole number ≥ 0 (got {seed!r})")
    if not (math.isfinite(starting_equity) and starting_equity > 0):
        raise BadInput(f"monte-carlo starting equity must be a positive amount "
                       f"(got {starting_equity!r})")


def _paths(log_growth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Final return and max drawdown of paths given as rows of per-trade log growth."""
    wealth = np.cumsum(log_growth, axis=1)  # log of equity ÷ starting equity after each trade
    peak = np.maximum(np.maximum.accumulate(wealth, axis=1), 0.0)  # the start is a peak too
    # log space keeps long or wild paths finite; the steepest fall is the smallest exp(w − peak)
    return np.expm1(wealth[:, -1]), -np.expm1((wealth - peak).min(axis=1))


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


def _percentiles(values: np.ndarray) -> Percentiles:
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    return Percentiles(float(p5), float(p50), float(p95))


def bootstrap_trades(trade_returns: Sequence[float], *, n: int = 1000, seed: int = 0,
                     starting_equity: float = 1.0) -> MonteCarlo:
    """Resample `trade_returns` (fractions per trade) with replacement into `n` paths.

    Each path draws as many trades as the original, compounds them from `starting_equity`, and
    gives its final return and its max drawdown (largest fall from a running peak, the start
    included). Draws come from `numpy.random.default_rng(seed)` in batches of whole paths, at
    most BATCH_TRADES trades a batch, each `rng.integers(0, trades, size=(paths, trades))`: one
    seed always gives the same paths, and within one batch row i is path i.
    """
    _check(n, seed, starting_equity)
    returns = _returns(trade_returns)
    trades = len(returns)
    if trades == 0:
        empty = _read_only(np.empty(0))
        return MonteCarlo(n, seed, 0, starting_equity, None, None, None, empty, empty)
    rng = np.random.default_rng(seed)
    log_growth = np.log1p(returns)
    per_batch = max(1, BATCH_TRADES // trades)
    finals, drawdowns = [], []
    for start in range(0, n, per_batch):
        picks = rng.integers(0, trades, size=(min(per_batch, n - start), trades))
        final, drawdown = _paths(log_growth[picks])
        finals.append(final)
        drawdowns.append(drawdown)
    final_returns = _read_only(np.concatenate(finals))
    max_drawdowns = _read_only(np.concatenate(drawdowns))
    return MonteCarlo(
        n=n, seed=seed, trades=trades, starting_equity=starting_equity,
        final_return=_percentiles(final_returns), max_drawdown=_percentiles(max_drawdowns),
        probability_below_start=float((final_returns < 0).mean()),
        final_returns=final_returns, max_drawdowns=max_drawdowns,
    )
