"""What the API and the dashboard know of each agent type, with no agent code: its kind, title,
description, inputs (the pipeline's edges) and config schema. The agent classes in
`engine.agents` take these from here, so the dashboard never imports agent code (an import
contract in pyproject.toml keeps it so). Registration order is pipeline order."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import BadInput
from engine.news.feeds import check_feeds, check_local_file
from engine.params import Param


@dataclass(frozen=True)
class AgentSpec:
    kind: str
    title: str
    description: str
    inputs: tuple[str, ...]
    config: dict[str, Param]
    own_thread: bool = False  # waits on networks: ticks on its own thread, never delaying others
    counts: dict[str, str] = field(default_factory=dict)  # input kind → what it takes from it
    figure: Callable[[dict[str, Any]], str] = lambda _summary: ""  # its key figure, from its
    # summary


def _market_figure(s: dict[str, Any]) -> str:
    newest = (s.get("last_bar") or "none")[:10]
    return f"{s.get('source', 'replay')} · {s.get('datasets', 0)} datasets · newest {newest}"


def _sentiment_figure(s: dict[str, Any]) -> str:
    scores = s.get("scores") or {}
    if not scores:
        return "no score yet"
    symbol, score = next(iter(sorted(scores.items())))
    return f"{symbol} {score['score']:+.2f} {score['label']} ({score['source']})"


def _strategy_figure(s: dict[str, Any]) -> str:
    return f"{s.get('sessions_served', 0)} sessions · {s.get('orders_decided', 0)} orders decided"


def _execution_figure(s: dict[str, Any]) -> str:
    return f"{s.get('orders_filled', 0)} filled · {s.get('fast_forwarding', 0)} fast-forwarding"


def known_exchange(value: str, field: str) -> None:
    """A Param check: a ccxt exchange id (checked when set, not when the feed first fails)."""
    import ccxt  # on use: a large import only this check needs

    if value not in ccxt.exchanges:
        raise BadInput(f"{field} must be a ccxt exchange id such as coinbase, kraken or "
                       f"binance (got {value!r})")


def interval_param(default: float) -> Param:
    return Param("interval_s", float, default, "seconds between ticks", 0.1, 3600)


def _spec(kind: str, title: str, description: str, inputs: tuple[str, ...],
          *params: Param, own_thread: bool = False, counts: dict[str, str] | None = None,
          figure: Callable[[dict[str, Any]], str]) -> AgentSpec:
    return AgentSpec(kind, title, description, inputs, {p.name: p for p in params},
                     own_thread, counts or {}, figure)


SPECS: dict[str, AgentSpec] = {
    spec.kind: spec
    for spec in (
        _spec(
            "market_data", "Market data",
            "Stores the shipped historical bars once; in live mode also polls public feeds.",
            (),
            interval_param(1.0),
            Param("source", str, "replay", "replay: shipped bars only; live: also poll feeds",
                  choices=("replay", "live")),
            Param("exchange", str, "coinbase", "live: ccxt exchange id for crypto",
                  check=known_exchange, blank=False),
            Param("stale_after_bars", float, 3.0, "live: warn when no new bar for this many "
                  "bar lengths", 1, 1000),
            own_thread=True, figure=_market_figure,
        ),
        _spec(
            "sentiment", "Sentiment",
            "VADER + finance word list on RSS or CSV headlines; price mood without news.",
            ("market_data",),
            interval_param(15.0),
            Param("rss_feeds", str, "", "comma-separated RSS/Atom feed URLs (http or https), "
                  "or files in PAPERDESK_HOME/feeds", check=check_feeds),
            Param("headlines_csv", str, "", "CSV in PAPERDESK_HOME/feeds with "
                  "headline[,symbol][,time] columns", check=check_local_file),
            Param("lookback_hours", float, 72.0, "headlines older than this are ignored", 1, 8760),
            own_thread=True, figure=_sentiment_figure,
        ),
        _spec(
            "strategy", "Strategy",
            "Loads each running session's strategy, risk rules and state into the core.",
            ("market_data", "sentiment"),
            interval_param(1.0),
            counts={"market_data": "bars", "sentiment": "scores"}, figure=_strategy_figure,
        ),
        _spec(
            "execution", "Execution",
            "Paper broker: advances each session's clock, fills on the next bar, marks.",
            ("strategy",),
            interval_param(1.0),
            Param("alert_drawdown_pct", float, 10.0, "alert when a session's drawdown passes "
                  "this %", 0.1, 100),
            Param("alert_loss_streak", int, 3, "alert after this many losing trades in a row",
                  1, 1000),
            Param("alert_trade_notional", float, 50_000.0, "alert on a fill larger than this "
                  "(quote currency)", 1, 1e12),
            counts={"strategy": "orders"}, figure=_execution_figure,
        ),
    )
}


def agent_spec(kind: str) -> AgentSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise BadInput(f"unknown agent type {kind!r}; known: {', '.join(SPECS)}") from None


def pipeline_layout() -> dict[str, tuple[int, int]]:
    """(stage, lane) of each agent kind in the diagram, from the inputs: an agent's stage is one
    past its furthest input's; it sits on the main lane (0) when it is the first input of
    another agent, or feeds none, and above it (1) otherwise."""
    stage: dict[str, int] = {}
    for spec in SPECS.values():  # registration order is pipeline order
        stage[spec.kind] = 1 + max((stage[i] for i in spec.inputs if i in stage), default=-1)
    firsts = {s.inputs[0] for s in SPECS.values() if s.inputs}
    fed = {i for s in SPECS.values() for i in s.inputs}
    return {kind: (stage[kind], 0 if kind in firsts or kind not in fed else 1) for kind in SPECS}
