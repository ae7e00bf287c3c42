"""Run the registered agents in pipeline order, tick by tick, without the scheduler.

For replaying data as fast as the engine code can go (benchmarks) and for exact, ordered
tests: bar t arrives, strategies decide on it, the broker fills what bar t allows.
"""

from sqlalchemy import Engine

from engine.agents import AGENT_TYPES
from engine.agents.base import AgentContext, BaseAgent
from engine.config import Settings
from engine.db import session_scope
from engine.logs import get_logger
from engine.models import Agent


class Lockstep:
    def __init__(self, db: Engine, settings: Settings, configs: dict[str, dict] | None = None,
                 kinds: tuple[str, ...] = tuple(AGENT_TYPES)):
        self.agents: list[BaseAgent] = []
        configs = configs or {}
        with session_scope(db) as s:
            for kind in kinds:
                cls = AGENT_TYPES[kind]
                row = s.get(Agent, kind) or Agent(id=kind, name=cls.title, kind=kind)
                row.config = {**row.config, **configs.get(kind, {})}
                s.add(row)
                s.flush()
                ctx = AgentContext(db, settings, get_logger(settings.logs_dir, kind, pin=True))
                self.agents.append(cls(row, ctx))
        for agent in self.agents:
            agent.on_start()

    def step(self) -> int:
        """One tick of every agent, in pipeline order; returns the items they processed."""
        return sum(agent.on_tick() for agent in self.agents)
