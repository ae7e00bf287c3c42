"""The log files read back: which ids have one and where (engine.logs writes them), and a tail
that reads from the end. Imports no logging, so the CLI's `logs` and `events` start without it."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import BadInput, NotFound, shown

LOG_ID = re.compile(r"[a-z][a-z0-9_]{0,62}|session-[1-9][0-9]{0,11}")  # whole id: fullmatch
ENGINE_LOG = "engine"  # the engine process's own log
SEVERITIES = ("info", "warning", "error")  # of events, the activity feed
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # what --level accepts
# logging's numbers of the level names a line may show (its own table, without importing it)
LEVEL_NUMBERS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40, "FATAL": 50,
                 "CRITICAL": 50}
CHUNK = 64 * 1024
MAX_SCAN_BYTES = 64 * 1024 * 1024


def check_log_id(log_id: str) -> None:
    """Reject anything that is not an agent id or `session-N` before it nears a path."""
    if not isinstance(log_id, str) or not LOG_ID.fullmatch(log_id):
        raise BadInput(f"log id {shown(log_id)} is not an agent id or session-N")


def log_path(logs_dir: Path, log_id: str) -> Path:
    """Return the file for `log_id`, which must resolve inside `logs_dir`."""
    check_log_id(log_id)
    root = logs_dir.resolve()
    path = (root / f"{log_id}.log").resolve()
    if path.parent != root:
        raise BadInput(f"log id {log_id!r} points outside the logs folder")
    return path


@dataclass
class Tail:
    lines: list[str]
    path: Path
    size_bytes: int
    scanned_bytes: int
    complete: bool  # False when the scan limit stopped the search before the file's start


def _matches(line: str, min_level: int, needle: str | None) -> bool:
    if min_level:
        parts = line.split(None, 2)
        if len(parts) < 2 or LEVEL_NUMBERS.get(parts[1], 0) < min_level:
            return False
    return needle is None or needle in line.lower()


def _level_number(level: str | None) -> int:
    if not level:
        return 0
    name = level.strip().upper() if isinstance(level, str) else ""
    if name not in LEVELS:
        raise BadInput(f"level must be one of {', '.join(LEVELS)} (got {shown(level)})")
    return LEVEL_NUMBERS[name]


def tail(
    logs_dir: Path, log_id: str, lines: int = 100, level: str | None = None, grep: str | None = None
) -> Tail:
    """Read the last `lines` matching lines, seeking back from the end in 64 KiB chunks."""
    if isinstance(lines, bool) or not isinstance(lines, int) or not 1 <= lines <= 10_000:
        raise BadInput(f"lines must be between 1 and 10000 (got {shown(lines)})")
    min_level = _level_number(level)
    if grep is not None and not isinstance(grep, str):
        raise BadInput(f"grep must be text (got {shown(grep)})")
    needle = grep.lower() if grep else None
    path = log_path(logs_dir, log_id)
    if not path.is_file():
        raise NotFound(f"no log file yet for {log_id}")
    found: list[str] = []
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        pos, carry = size, b""
        while pos > 0 and len(found) < lines and size - pos < MAX_SCAN_BYTES:
            step = min(CHUNK, pos)
            pos -= step
            fh.seek(pos)
            block = fh.read(step) + carry
            parts = block.split(b"\n")
            carry = parts.pop(0) if pos > 0 else b""
            for raw in reversed(parts):
                text = raw.decode("utf-8", errors="replace").rstrip("\r")
                if text and _matches(text, min_level, needle):
                    found.append(text)
                    if len(found) == lines:
                        break
    return Tail(
        lines=found[::-1], path=path, size_bytes=size, scanned_bytes=size - pos, complete=pos == 0
    )
