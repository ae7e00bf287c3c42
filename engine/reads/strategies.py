"""The strategies a session may name, as the CLI and the dashboard list them."""

from dataclasses import dataclass

from engine.core.strategies import STRATEGIES
from engine.core.strategy_api import ChartItem
from engine.registry import strategies


@dataclass(frozen=True)
class ParamLine:
    name: str
    kind: str
    default: object
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    help: str


@dataclass(frozen=True)
class StrategyLine:
    name: str
    title: str
    file: str  # the file in PAPERDESK_HOME/strategies, or "built-in"
    sha256: str | None
    uses_sentiment: bool
    params: tuple[ParamLine, ...]


@dataclass(frozen=True)
class StrategyList:
    folder: str
    strategies: tuple[StrategyLine, ...]
    problems: tuple[str, ...]  # one line per file that did not load: file:line: cause


def strategy_list() -> StrategyList:
    """Every strategy this process can run now (the folder scanned again if it changed)."""
    found = strategies.current()
    lines = []
    for name, source in found.sources.items():
        cls = STRATEGIES[name]
        params = tuple(ParamLine(p.name, p.kind.__name__, p.default, p.low, p.high, p.choices,
                                 p.help) for p in cls.params.values())
        lines.append(StrategyLine(name, cls.title, source.file, source.sha256,
                                  bool(cls.uses_sentiment), params))
    return StrategyList(str(found.folder), tuple(lines), tuple(str(p) for p in found.problems))


def chart_of(strategy: str) -> tuple[ChartItem, ...]:
    """What a session's candles draw beside them for `strategy`: the chart it declares (nothing
    for a strategy this process cannot load)."""
    strategies.current()
    cls = STRATEGIES.get(strategy)
    return cls.chart if cls is not None else ()


def param_text(p: ParamLine) -> str:
    """`fast: int = 10 [2..200]`, the way a list shows one parameter."""
    if p.choices:
        bounds = f" ({'|'.join(p.choices)})"
    elif p.low is not None or p.high is not None:
        low = "" if p.low is None else f"{p.low:g}"
        high = "" if p.high is None else f"{p.high:g}"
        bounds = f" [{low}..{high}]"
    else:
        bounds = ""
    return f"{p.name}: {p.kind} = {p.default!r}{bounds}"
