"""Exceptions that say how to recover, each with the CLI exit code it maps to, and the one way
a text becomes a single literal line (for a log, an event, the activity feed, a CLI error)."""

import os
import unicodedata


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


class NotReproducible(PaperDeskError):
    """A result recomputed by the core differs from what was stored (its bars or its strategy's
    code changed since); the message names the first bar that differs. Reconcile the session."""


class TransientError(PaperDeskError):
    """A passing fault (network, locked database): the agent retries on its next tick."""


class DatabaseUnavailable(TransientError):
    """The database cannot be reached (server down, file gone); reads and actions are tried
    again once it is back."""


class StrategyError(PaperDeskError):
    """A strategy raised, or returned something outside the strategy API: fatal for the
    sessions running it (and only them); the one-line message names the file and line. Fix the
    strategy."""

    file: str | None = None  # the frame the message names, when the error came from a raise
    line: int | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, source_file: str | None,
                       where: str = "") -> "StrategyError":
        """`exc`, raised inside a strategy, on one line: `where`, the exception, and the file
        and line of the innermost frame in `source_file` (the strategy's own file), else of the
        innermost frame."""
        import traceback  # on use: the CLI's reads start without it

        frames = traceback.extract_tb(exc.__traceback__)
        own = os.path.realpath(source_file) if source_file else None
        mine = [f for f in frames if own and os.path.realpath(f.filename) == own]
        frame = (mine or frames or [None])[-1]
        at = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
        error = cls(f"{where}{one_line(exc)}{at}")
        if frame:
            error.file, error.line = frame.filename, frame.lineno
        return error


class EngineLeaseHeld(PaperDeskError):
    """Another engine holds the lease; this one must not start."""

    exit_code = 3


LINE_BREAKING = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format, surrogate, line/paragraph


def _visible(char: str) -> str:
    """A character that would break a line or act on a terminal, as its escape (`\\n`)."""
    return repr(char)[1:-1] if unicodedata.category(char) in LINE_BREAKING else char


def single_line(text: object) -> str:
    """`text` as one literal line: line breaks, control and format characters (NUL, escape
    sequences, U+2028, bidi overrides…) and lone surrogates shown as escapes (`\\n`, `\\x00`,
    `\\u2028`), so nothing a user typed can start a forged line or recolour a terminal."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_visible(c) for c in text)


def shown(value: object, limit: int = 60) -> str:
    """A user's value as a message quotes it: its repr (one line, escapes visible), cut to
    about `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def one_line(exc: BaseException) -> str:
    """An exception as "Type: the first line of its message", for a log line or a CLI error:
    the database driver's message when SQLAlchemy wraps one (`orig`), the cause's when the
    exception has none (procrastinate wraps psycopg's errors so)."""
    text = (str(getattr(exc, "orig", None) or exc).strip()
            or str(exc.__cause__ or "").strip()).splitlines()
    return (f"{type(exc).__name__}: {single_line(text[0])}" if text
            else type(exc).__name__)
