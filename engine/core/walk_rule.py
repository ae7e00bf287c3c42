"""A walk-forward rule traded by a session: the parameters re-selected on a schedule from the
bars the session has already seen.

Before its first traded bar and every `step_bars` traded bars after, a session with a
`WalkRule` replays each candidate parameter set, in memory, on the `train_bars` bar times just
before (each candidate a fresh Trader primed on the warm-up bars before them, exactly as the
sweep's walk-forward trains a fold), chooses the best by the rule's objective (ties: the earliest
candidate) and trades on with it: a new strategy instance warmed on the bars before. Its
position and cash carry over. The choice reads only bars before the bar it is made at, so a
session's results stay a function of its data, settings and window — at any speed, through
pauses and restarts (a restored session re-makes the last choice from the same bars).
"""

from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from engine.core.bars import BarData
from engine.core.news import News
from engine.core.runner import StrategyRunner
from engine.core.selection import Candidate, annualised_return, select_best
from engine.core.settings import TradeSettings
from engine.core.stats import sharpe

Series = dict[str, tuple[list[datetime], list[BarData]]]  # symbol → (bar times, bars)
Replay = Callable[[TradeSettings, Series, datetime, datetime, News | None],
                  tuple[object, object]]


def score(idx: int, settings: TradeSettings, trader, per_year: float) -> Candidate:
    """A run's figures as a walk-forward candidate (returns and drawdown as fractions)."""
    ledger = trader.ledger
    total = ledger.marked_equity / settings.starting_cash - 1
    return Candidate(params=(idx,),
                     sharpe=sharpe(ledger.ret_n, ledger.ret_sum, ledger.ret_sumsq, per_year),
                     total_return=total,
                     annual_return=annualised_return(total, max(1, ledger.bars_done), per_year),
                     max_drawdown=ledger.max_drawdown_pct / 100)


class Reselector:
    """A session's walk-forward rule at run time: the bars it remembers and its choices."""

    def __init__(self, settings: TradeSettings, replay: Replay, news: News | None = None):
        rule = settings.walk_rule
        self.rule, self.replay, self.news = rule, replay, news  # news: a `news` session's
        self.choices = [replace(settings, params=dict(p), walk_rule=None)
                        for p in rule.candidates]
        warmup = max(StrategyRunner(c).warmup_bars for c in self.choices)
        self.lookback = rule.train_bars + warmup  # bars a choice reads, per symbol
        self.memory: dict[str, deque[BarData]] = {
            s: deque(maxlen=self.lookback) for s in settings.symbols}
        self.chosen = 0  # the candidate traded with

    @property
    def choice_work(self) -> int:
        """Bars of strategy code one choice runs (every candidate on its train bars)."""
        return len(self.choices) * self.lookback

    def choices_within(self, bars_done: int, bars: int) -> int:
        """How many choices the next `bars` bar times after `bars_done` make."""
        step = self.rule.step_bars
        return len(range(-(-bars_done // step) * step, bars_done + bars, step))

    def due(self, bars_done: int) -> bool:
        """Whether a choice is made before the bar after `bars_done` traded bars."""
        return bars_done % self.rule.step_bars == 0

    def remember(self, symbol: str, bar: BarData) -> None:
        self.memory[symbol].append(bar)

    def choose(self) -> TradeSettings:
        """Replay every candidate on the train bars remembered; the best one's settings."""
        series = {s: ([b.ts for b in bars], list(bars)) for s, bars in self.memory.items()}
        times = sorted({ts for ts_list, _ in series.values() for ts in ts_list})
        train = times[-self.rule.train_bars:]
        if train:
            candidates = []
            for idx, settings in enumerate(self.choices):
                _, trader = self.replay(settings, series, train[0], train[-1], self.news)
                candidates.append(score(idx, settings, trader, self.rule.bars_per_year))
            self.chosen = select_best(self.rule.objective, candidates).params[0]
        return self.choices[self.chosen]

    def runner(self, cash: float) -> StrategyRunner:
        """The chosen candidate's strategy, warmed on the bars remembered before (as a new
        session is primed; the context as before the first bar: nothing held, `cash`)."""
        runner = StrategyRunner(self.choose(), self.news)
        for symbol, bars in self.memory.items():
            for bar in list(bars)[max(0, len(bars) - runner.warmup_bars):]:
                runner.warm(symbol, bar, cash)
        return runner
