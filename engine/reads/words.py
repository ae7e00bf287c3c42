"""The one status vocabulary: the word and colour that every surface (the agent card, the
diagram's nodes, the sidebar, the session tables and the CLI) shows for an agent or a session.

An agent's stored status flips while its ticks keep failing (error, then starting and running
for one retry, then error again); what it is to a user does not: it is in `error` until a tick
succeeds again. So every surface says the same word whenever it happens to read.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.core.lifecycle import AgentStatus, SessionStatus
from engine.reads.colours import AMBER, BLUE, DEGRADED, GREEN, GREY, ORANGE, RED, VIOLET, WAITING

DEGRADED_WORD = "degraded"  # running, but its last ticks failed (it has not gone to error)
WAITING_WORD = "waiting"  # a running session whose clock cannot advance


@dataclass(frozen=True)
class StatusWord:
    """What a surface shows: the word, its colour (hex for the diagram and tables, a Streamlit
    colour name for badges), and why (a waiting session's reason)."""

    word: str
    hex: str
    tone: str
    why: str | None = None


# word → (hex, Streamlit colour name); .streamlit/config.toml gives the names these shades
COLOURS: dict[str, tuple[str, str]] = {
    "running": (GREEN, "green"), "paused": (AMBER, "yellow"), "error": (RED, "red"),
    "stopped": (GREY, "gray"), "created": (BLUE, "blue"), "starting": (ORANGE, "orange"),
    "stopping": (ORANGE, "orange"), "completed": (VIOLET, "violet"),
    DEGRADED_WORD: (DEGRADED, "orange"), WAITING_WORD: (WAITING, "yellow"),
    # orders, commands and the engine (never shown for an agent or a session)
    "pending": (BLUE, "blue"), "filled": (GREEN, "green"), "cancelled": (GREY, "gray"),
    "rejected": (RED, "red"), "online": (GREEN, "green"), "offline": (RED, "red"),
}
# What a stopped stage of the pipeline holds back, as the held sessions' wait reason says it.
HELD = {"execution": "fills held", "strategy": "decisions held"}


def word(text: str, why: str | None = None) -> StatusWord:
    hex_, tone = COLOURS.get(text, (GREY, "gray"))
    return StatusWord(text, hex_, tone, why)


def agent_word(status: str, consecutive_errors: int,
               retry_at: datetime | None = None) -> StatusWord:
    """An agent's word: `degraded` while it runs with failing ticks, `error` from its first
    fatal failure until a tick succeeds (also while it starts and runs a retry)."""
    failing = bool(consecutive_errors)
    if status == AgentStatus.ERROR or (failing and retry_at is not None and status in (
            AgentStatus.STARTING, AgentStatus.RUNNING)):
        return word(AgentStatus.ERROR.value)
    if status == AgentStatus.RUNNING and failing:
        return word(DEGRADED_WORD)
    return word(str(status))


def held(kind: str, state: str) -> str:
    """The wait reason of a session held because pipeline stage `kind` is `state`."""
    return f"{kind} agent {state}: {HELD[kind]}"


def pipeline_hold(agent_words: Mapping[str, str]) -> str | None:
    """Why every running session waits when a stage it needs is not running (agent kind →
    word; a stage the engine has not registered yet holds nothing), or None."""
    for kind in HELD:
        state = agent_words.get(kind)
        if state is not None and state not in ("running", DEGRADED_WORD):
            return held(kind, state)
    return None


def session_word(status: str, wait_reason: str | None = None,
                 hold: str | None = None) -> StatusWord:
    """A session's word: a running session whose clock waits (for a stage of the pipeline,
    `hold`, or as its clock last said, `wait_reason`) is `waiting`, and says why."""
    if status == SessionStatus.RUNNING and (hold or wait_reason):
        return word(WAITING_WORD, hold or wait_reason)
    return word(str(status), wait_reason if status == SessionStatus.PAUSED else None)
