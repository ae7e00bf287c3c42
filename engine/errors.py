"""Exceptions that say how to recover, each with the CLI exit code it maps to."""


class PaperDeskError(Exception):
    """Base of every error PaperDesk reports to a user."""

    exit_code = 1


class BadInput(PaperDeskError):
    """A value failed validation; the message names the field. Fix the input and retry."""

    exit_code = 2


class ConfigError(BadInput):
    """An environment or config value is invalid; the message names the variable."""


class NotAllowed(PaperDeskError):
    """The action is not allowed in the current state; nothing was written."""

    exit_code = 3


class NotFound(PaperDeskError):
    """The named agent, session or log does not exist."""

    exit_code = 4


class WaitTimeout(PaperDeskError):
    """The engine did not apply a command in time; it stays queued."""

    exit_code = 5


class TransientError(PaperDeskError):
    """A passing fault (network, locked database): the agent retries on its next tick."""


class EngineLeaseHeld(PaperDeskError):
    """Another engine holds the lease; this one must not start."""

    exit_code = 3


def one_line(exc: BaseException) -> str:
    """An exception as "Type: the first line of its message", for a log line or a CLI error:
    the database driver's message when SQLAlchemy wraps one (`orig`), the cause's when the
    exception has none (procrastinate wraps psycopg's errors so)."""
    text = (str(getattr(exc, "orig", None) or exc).strip()
            or str(exc.__cause__ or "").strip()).splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
