"""The one result every action of engine.control returns."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did: queued a command the engine applies in order (`command`; wait for
    it with engine.control.actions.wait_for), or made its change at once (`command` None); the
    id of the row it created, if any; one line to show the user."""

    message: str
    command: int | None = None
    id: int | None = None  # the row it created, if any

    @property
    def queued(self) -> bool:
        return self.command is not None
