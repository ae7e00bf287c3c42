"""A walk-forward of a sweep's variants, in memory by the per-bar core (pool processes import
this module: the core and engine.analytics only).

Per fold (engine.analytics.walkforward.folds over the window's bar times): every variant is
replayed on the fold's train bars alone — a fresh Trader primed on the warm-up bars before
them, exactly as a session of that window — and the best by the objective is replayed on the
test bars that follow, again from a fresh Trader: each test run is a bar-exact session of its
window (reconcile 100 %). No train run sees a bar after its train window; a test run is
primed on the bars before its window only (which the strategy could have seen live).

The test runs are chained: fold k + 1 starts with the equity fold k ended with (its open
position marked at the fold's last close; each fold opens flat), so the stitched out-of-sample
equity curve is the concatenation of the folds' snapshots and its trade list theirs.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from engine.analytics.walkforward import Fold, WalkForward, folds
from engine.core.bars import frames
from engine.core.news import News
from engine.core.selection import Candidate, select_best
from engine.core.settings import TradeSettings
from engine.core.trader import Outbox, Trader, replay
from engine.core.walk_rule import score
from engine.sweeps import variant

Series = dict  # symbol → (bar times, bars), as engine.market.series gives them


@dataclass(frozen=True, slots=True)
class FoldWindow:
    """A fold's bar indices and the market times of its first and last bars (inclusive)."""

    fold: Fold
    train_from: datetime
    train_to: datetime
    test_from: datetime
    test_to: datetime


@dataclass(frozen=True, slots=True)
class TrainTask:
    fold: int
    idx: int  # the variant
    settings: TradeSettings
    start: datetime
    end: datetime
    bars_per_year: float


@dataclass
class FoldRun:
    """One fold: its window, the variant chosen on its train bars and the test run."""

    window: FoldWindow
    chosen: int  # variant index
    in_sample: Candidate
    settings: TradeSettings  # the chosen variant's, with the cash the fold started with
    out: Outbox
    trader: Trader

    @property
    def out_sample_return(self) -> float:
        """The test run's return on the cash it started with (a fraction)."""
        return self.trader.ledger.marked_equity / self.settings.starting_cash - 1


def bar_times(series: Series, start: datetime, end: datetime) -> list[datetime]:
    """The bar times of the window [start, end], as a session of it trades them."""
    return [ts for ts, _ in frames(series, None, end, start)]


def fold_windows(times: list[datetime], spec: WalkForward) -> list[FoldWindow]:
    """The folds of `spec` over the window's bar times."""
    return [FoldWindow(f, times[f.train_start], times[f.train_end - 1], times[f.test_start],
                       times[f.test_end - 1]) for f in folds(spec, len(times))]


def train(task: TrainTask, series: Series | None = None, news: News | None = None
          ) -> tuple[int, int, Candidate]:
    """Replay one variant on one fold's train bars; (fold, variant, its candidate). In a pool
    process the bars and scores are the sweep's, handed over by engine.sweeps.variant.init."""
    if series is None:
        series, news = variant.loaded(task.settings.symbols), variant.loaded_news()
    _, trader = replay(task.settings, series, task.start, task.end, news)
    return task.fold, task.idx, score(task.idx, task.settings, trader, task.bars_per_year)


def train_tasks(windows: list[FoldWindow], settings: list[TradeSettings],
                per_year: float) -> list[TrainTask]:
    return [TrainTask(w.fold.index, idx, s, w.train_from, w.train_to, per_year)
            for w in windows for idx, s in enumerate(settings)]


def choose(results: list[tuple[int, int, Candidate]], n_folds: int,
           objective: str) -> list[Candidate]:
    """Per fold, the best candidate by `objective` (ties: the earliest variant)."""
    by_fold: list[list[Candidate]] = [[] for _ in range(n_folds)]
    for fold, _, candidate in sorted(results, key=lambda r: (r[0], r[1])):
        by_fold[fold].append(candidate)
    return [select_best(objective, candidates) for candidates in by_fold]


def trade_folds(windows: list[FoldWindow], best: list[Candidate],
               settings: list[TradeSettings], series: Series, news: News | None = None
               ) -> list[FoldRun]:
    """Trade each fold's chosen variant on its test bars, the cash chained fold to fold."""
    runs, cash = [], settings[0].starting_cash
    for window, candidate in zip(windows, best, strict=True):
        chosen = candidate.params[0]
        fold_settings = replace(settings[chosen], starting_cash=cash)
        out, trader = replay(fold_settings, series, window.test_from, window.test_to, news)
        runs.append(FoldRun(window, chosen, candidate, fold_settings, out, trader))
        cash = trader.ledger.marked_equity
    return runs


def walk_forward(series: Series, settings: list[TradeSettings], start: datetime,
                 end: datetime, spec: WalkForward, objective: str,
                 per_year: float, news: News | None = None) -> list[FoldRun]:
    """The whole walk-forward in this process (tests; the runner trains in its pool)."""
    windows = fold_windows(bar_times(series, start, end), spec)
    results = [train(task, series, news) for task in train_tasks(windows, settings, per_year)]
    return trade_folds(windows, choose(results, len(windows), objective), settings, series,
                       news)
