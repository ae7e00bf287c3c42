"""Agent types. Adding one is one spec in engine.registry.agents.SPECS (what the dashboard sees)
plus one class (a BaseAgent subclass) listed here."""

from engine.agents.base import BaseAgent
from engine.agents.execution import ExecutionAgent
from engine.agents.market_data import MarketDataAgent
from engine.agents.sentiment import SentimentAgent
from engine.agents.strategy import StrategyAgent
from engine.registry.agents import SPECS

_CLASSES = (MarketDataAgent, SentimentAgent, StrategyAgent, ExecutionAgent)
_BY_KIND = {cls.kind: cls for cls in _CLASSES}

# Pipeline order is SPECS order; each type runs as one agent whose id is its kind.
AGENT_TYPES: dict[str, type[BaseAgent]] = {kind: _BY_KIND[kind] for kind in SPECS}
