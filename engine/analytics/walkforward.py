"""Walk-forward analysis: the spec a user types, the folds it lays over the bars, the choice of
parameters on each train window, and the efficiency of the result.

A fold trains on bars [train_start, train_end) and tests on [test_start, test_end), half-open
bar indices, with test_start == train_end: nothing a fold tests was seen while training it.
"""

import math
from dataclasses import dataclass

from engine.core.selection import (
    annualised,
    require_bars,
    require_per_year,
    require_return,
    shown,
)
from engine.errors import BadInput

EXAMPLE = "train=500,test=100"
MIN_BARS = {"train": 10, "test": 1, "step": 1}
MAX_BARS = 1_000_000_000
ANCHORED = "anchored"
_MAX_DIGITS = len(str(MAX_BARS))


@dataclass(frozen=True, slots=True)
class WalkForward:
    """A walk-forward layout in bars; the train window slides (rolling) or grows (anchored)."""

    train_bars: int
    test_bars: int
    step_bars: int
    anchored: bool = False


@dataclass(frozen=True, slots=True)
class Fold:
    """Bar indices of one fold, half-open: train [train_start, train_end), test likewise."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def _whole_bars(key: str, raw: str | None) -> int:
    least = MIN_BARS[key]
    wrong = BadInput(f"walk-forward {key} must be a whole number of bars ≥ {least} "
                     f"(got {shown(raw)})")
    if raw is None or not raw.isascii() or not raw.isdigit():
        raise wrong
    # int() refuses strings of over 4300 digits; anything past MAX_BARS's length is too large
    value = int(raw) if len(raw.lstrip("0")) <= _MAX_DIGITS else MAX_BARS + 1
    if value < least:
        raise wrong
    if value > MAX_BARS:
        raise BadInput(f"walk-forward {key} must be at most {MAX_BARS} bars (got {shown(raw)})")
    return value


def _item(item: str) -> tuple[str, str | None]:
    """Split one `key=value` (or a bare flag) into its key and its value (None for a flag)."""
    key, equals, raw = item.partition("=")
    key = key.strip().lower()
    if not key:
        raise BadInput(f"walk-forward item {shown(item)} names no key; write e.g. {EXAMPLE}")
    return key, raw.strip() if equals else None


def parse_walk_forward(text: str) -> WalkForward:
    """Parse `train=N,test=M[,step=S][,anchored]`, all in bars; step defaults to test.

    N ≥ 10, M ≥ 1, S ≥ M (a smaller step would make test segments overlap). Keys are case-blind;
    spaces around items are ignored; an unknown, repeated or empty item is refused.
    """
    if not text.strip():
        raise BadInput(f"walk-forward is empty; write e.g. {EXAMPLE}")
    bars: dict[str, int] = {}
    anchored = False
    for key, raw in map(_item, text.split(",")):
        if key in bars or (key == ANCHORED and anchored):
            raise BadInput(f"walk-forward {key} is given twice")
        if key == ANCHORED and raw is None:
            anchored = True
        elif key == ANCHORED:
            raise BadInput(f"walk-forward {ANCHORED} takes no value (got {shown(raw)})")
        elif key in MIN_BARS:
            bars[key] = _whole_bars(key, raw)
        else:
            raise BadInput(f"walk-forward has no key {shown(key)}; the keys are "
                           f"{', '.join(MIN_BARS)} and {ANCHORED}")
    for key in ("train", "test"):
        if key not in bars:
            raise BadInput(f"walk-forward {key} is missing; write e.g. {EXAMPLE}")
    step = bars.get("step", bars["test"])
    if step < bars["test"]:
        raise BadInput(f"walk-forward step must be ≥ test ({bars['test']} bars) so that test "
                       f"segments do not overlap (got {step})")
    return WalkForward(bars["train"], bars["test"], step, anchored)


def folds(spec: WalkForward, n_bars: int) -> tuple[Fold, ...]:
    """Lay the folds of `spec` over bars 0 … n_bars − 1, oldest first.

    Fold k's train window ends at train_bars + k·step_bars and starts there minus train_bars
    (rolling) or at 0 (anchored); its test segment starts where training ends and lasts
    test_bars. Test segments never overlap; with step > test the bars between them are not
    tested. The last test segment is kept when it is shorter than test_bars, down to 1 bar,
    so every bar after the first train window is tested (when step == test).
    """
    needed = spec.train_bars + 1
    if n_bars < needed:
        raise BadInput(f"walk-forward needs at least {needed} bars for one fold "
                       f"({spec.train_bars} to train, 1 or more to test); there are {n_bars}")
    return tuple(
        Fold(index, 0 if spec.anchored else train_end - spec.train_bars, train_end,
             train_end, min(train_end + spec.test_bars, n_bars))
        for index, train_end in enumerate(range(spec.train_bars, n_bars, spec.step_bars))
    )


def efficiency(in_sample_return: float, in_bars: int, out_sample_return: float, out_bars: int,
               bars_per_year: float) -> float | None:
    """Walk-forward efficiency: annualised out-of-sample return ÷ annualised in-sample return.

    Returns are fractions (0.1 = +10 %) over `in_bars` / `out_bars` bars, annualised
    geometrically (`annualised_return`). None when the in-sample annual return is ≤ 0 (the
    ratio then means nothing) or either annual return overflows a float (undefined).
    """
    require_return("in-sample return", in_sample_return)
    require_return("out-of-sample return", out_sample_return)
    require_bars("in-sample bars", in_bars)
    require_bars("out-of-sample bars", out_bars)
    require_per_year(bars_per_year)
    in_annual = annualised(in_sample_return, in_bars, bars_per_year)
    out_annual = annualised(out_sample_return, out_bars, bars_per_year)
    if not 0 < in_annual < math.inf or out_annual == math.inf:
        return None
    return out_annual / in_annual


