"""How a walk-forward chooses: a parameter set's figures on its train bars as a `Candidate`,
annualised returns, and the best candidate by an objective (the sweep's walk-forward and a
walk-forward session choose alike)."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.errors import BadInput

_MAX_EXPONENT = 709.0  # math.exp overflows above about 709.78


def shown(raw: str | None) -> str:
    """A user's value for a one-line message: quoted, escaped, cut to 40 characters."""
    if raw is None:
        return "no value"
    shown = repr(raw)  # cut after escaping: one control character escapes to up to 10
    return shown if len(shown) <= 40 else shown[:39] + "…"


def require_return(label: str, value: float) -> None:
    if not (math.isfinite(value) and value >= -1):
        raise BadInput(f"{label} must be a finite fraction ≥ -1 (got {value!r})")


def require_bars(label: str, value: int) -> None:
    if value < 1:
        raise BadInput(f"{label} must be at least 1 bar (got {value!r})")


def require_per_year(bars_per_year: float) -> None:
    if not (math.isfinite(bars_per_year) and bars_per_year > 0):
        raise BadInput(f"bars per year must be a positive number (got {bars_per_year!r})")


def annualised(total_return: float, bars: int, bars_per_year: float) -> float:
    if total_return == -1:
        return -1.0
    exponent = math.log1p(total_return) * bars_per_year / bars
    return math.inf if exponent > _MAX_EXPONENT else math.expm1(exponent)


def annualised_return(total_return: float, bars: int, bars_per_year: float) -> float:
    """Geometric annual return of `total_return` earned over `bars` bars, both fractions:
    (1 + r)^(bars_per_year / bars) − 1; inf when that overflows a float."""
    require_return("total return", total_return)
    require_bars("bars", bars)
    require_per_year(bars_per_year)
    return annualised(total_return, bars, bars_per_year)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One parameter set's result on a train window. Returns and drawdown are fractions."""

    params: tuple
    sharpe: float | None  # annualised, risk-free 0; None when undefined
    total_return: float
    annual_return: float  # geometric, see annualised_return
    max_drawdown: float  # largest fall from a running peak, ≥ 0 (0.2 = −20 %)

    @property
    def calmar(self) -> float | None:
        """Annual return ÷ max drawdown; inf for a gain without drawdown, None for neither."""
        if self.max_drawdown > 0:
            return self.annual_return / self.max_drawdown
        return math.inf if self.annual_return > 0 else None


_SCORES: dict[str, Callable[[Candidate], float | None]] = {
    "sharpe": lambda c: c.sharpe,
    "total_return": lambda c: c.total_return,
    "calmar": lambda c: c.calmar,
}
OBJECTIVES = tuple(_SCORES)
DEFAULT_OBJECTIVE = OBJECTIVES[0]


def _rank_key(score: float | None) -> tuple[bool, float]:
    """Order scores so that an undefined one (None, NaN) ranks below every number."""
    defined = score is not None and not math.isnan(score)
    return defined, score if defined else 0.0


def select_best(objective: str, candidates: Iterable[Candidate]) -> Candidate:
    """The candidate with the highest `objective` (one of OBJECTIVES), higher is better.

    Ties go to the earliest candidate; an undefined score ranks below every number, so when
    no candidate has one the first is chosen.
    """
    if objective not in _SCORES:
        raise BadInput(f"walk-forward objective must be one of {', '.join(OBJECTIVES)} "
                       f"(got {shown(objective)})")
    score = _SCORES[objective]
    best: Candidate | None = None
    best_key = (False, 0.0)
    for candidate in candidates:
        key = _rank_key(score(candidate))
        if best is None or key > best_key:
            best, best_key = candidate, key
    if best is None:
        raise BadInput("walk-forward has no candidates to choose from")
    return best
