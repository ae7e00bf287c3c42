"""Agent types. Adding one is one class (a BaseAgent subclass) plus one line in AGENT_TYPES."""

from engine.agents.base import BaseAgent
from engine.agents.execution import ExecutionAgent
from engine.agents.market_data import MarketDataAgent
from engine.agents.sentiment import SentimentAgent
from engine.agents.strategy import StrategyAgent
from engine.errors import BadInput

# Registration order is pipeline order; each type runs as one agent whose id is its kind.
AGENT_TYPES: dict[str, type[BaseAgent]] = {
    cls.kind: cls for cls in (MarketDataAgent, SentimentAgent, StrategyAgent, ExecutionAgent)
}


def agent_class(kind: str) -> type[BaseAgent]:
    try:
        return AGENT_TYPES[kind]
    except KeyError:
        raise BadInput(f"unknown agent type {kind!r}; known: {', '.join(AGENT_TYPES)}") from None
