"""Per-agent and per-session rotating log files, and a tail that reads from the end."""

import logging
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from engine.errors import BadInput, NotFound, shown, single_line

LOG_ID = re.compile(r"[a-z][a-z0-9_]{0,62}|session-[1-9][0-9]{0,11}")  # whole id: fullmatch
ENGINE_LOG = "engine"  # the engine process's own log
SEVERITIES = ("info", "warning", "error")  # of events, the activity feed
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_BYTES = 20 * 1024 * 1024
BACKUPS = 3
CHUNK = 64 * 1024
MAX_SCAN_BYTES = 64 * 1024 * 1024

MAX_OPEN_FILES = 128  # 1,000 sessions must not hold 1,000 file handles
APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW  # never through a link

_lock = threading.Lock()
_open: OrderedDict[tuple[str, str], logging.Logger] = OrderedDict()
_pinned: dict[tuple[str, str], logging.Logger] = {}


class _UTCFormatter(logging.Formatter):
    """UTC timestamps; every record stays on one line (line breaks and control characters in
    messages are escaped by engine.errors.single_line, so text that reaches a log cannot forge
    another line)."""

    converter = time.gmtime

    def format(self, record):
        return single_line(super().format(record))

    def formatTime(self, record, datefmt=None):  # noqa: N802  (logging's API name)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


FORMATTER = _UTCFormatter("%(asctime)s %(levelname)-8s %(message)s")
LOG_ERROR_EVERY_S = 60.0


class _FileHandler(RotatingFileHandler):
    """A rotating file whose write failures (disk full, read-only) are one line on stderr now
    and then, never a traceback a record: the engine keeps running without its log."""

    last_error = 0.0

    def handleError(self, record):  # noqa: N802  (logging's API name)
        _unwritable(self.baseFilename, sys.exc_info()[1])


def _unwritable(path, error: BaseException | None) -> None:
    """Say on stderr, at most once a LOG_ERROR_EVERY_S, that a log cannot be written."""
    now = time.monotonic()
    if now - _FileHandler.last_error >= LOG_ERROR_EVERY_S:
        _FileHandler.last_error = now
        sys.stderr.write(f"warning: cannot write the log {path} "
                         f"({type(error).__name__}: {error}); records are dropped\n")


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


def get_logger(logs_dir: Path, log_id: str, pin: bool = False) -> logging.Logger:
    """Return the logger writing to `logs_dir/<log_id>.log` (rotating), creating it once.

    Unpinned loggers (sessions) share at most MAX_OPEN_FILES open files, least recently used
    closed first; call this on every use rather than keeping the logger. Pin agent loggers.
    A logger already open is found by (folder, id) without touching the file system."""
    key = (str(logs_dir), log_id)
    with _lock:
        logger = _pinned.get(key) or _open.get(key)
        if logger is None:
            path = log_path(logs_dir, log_id)
            # A standalone Logger: registering thousands in logging's manager would make every
            # level change walk them all.
            logger = logging.Logger(f"paperdesk.{log_id}", logging.INFO)
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = _FileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS)
            handler.setFormatter(FORMATTER)
            logger.addHandler(handler)
            logger.propagate = False
        if pin:
            _pinned[key] = logger
            return logger
        _open[key] = logger
        _open.move_to_end(key)
        while len(_open) > MAX_OPEN_FILES:
            _, oldest = _open.popitem(last=False)
            for handler in list(oldest.handlers):
                oldest.removeHandler(handler)
                handler.close()
    return logger


def append_lines(logs_dir: Path, lines: dict[str, list[tuple[int, str]]]) -> None:
    """Append (level, message) records to many logs (sessions' lines of one tick), each file
    opened once and written in one append: no logger or handler per session. Lines are
    formatted as the loggers format them and the files rotate as theirs do."""
    if not lines:
        return
    logs_dir.mkdir(parents=True, exist_ok=True)
    root = str(logs_dir.resolve())
    for log_id, records in lines.items():
        check_log_id(log_id)  # a name without a separator: <root>/<id>.log is in the folder
        path = os.path.join(root, f"{log_id}.log")
        data = "".join(FORMATTER.format(logging.makeLogRecord(
            {"msg": message, "levelno": level, "levelname": logging.getLevelName(level)}))
            + "\n" for level, message in records).encode()
        try:
            _append(logs_dir, log_id, path, data)
        except OSError as error:
            _unwritable(path, error)


def _append(logs_dir: Path, log_id: str, path: str, data: bytes) -> None:
    try:
        size = os.lstat(path).st_size
    except FileNotFoundError:
        size = 0
    if size and size + len(data) >= MAX_BYTES:
        _rotate(logs_dir, log_id, path)
    fd = os.open(path, APPEND, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _rotate(logs_dir: Path, log_id: str, path: str) -> None:
    """Roll `path` over as RotatingFileHandler does (.1 … .BACKUPS), first closing the
    logger get_logger may hold open on it."""
    with _lock:
        logger = _open.pop((str(logs_dir), log_id), None)
        for handler in list(logger.handlers) if logger else []:
            logger.removeHandler(handler)
            handler.close()
        for i in range(BACKUPS - 1, 0, -1):
            if os.path.exists(f"{path}.{i}"):
                os.replace(f"{path}.{i}", f"{path}.{i + 1}")
        os.replace(path, f"{path}.1")


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
        level = logging.getLevelName(parts[1]) if len(parts) > 1 else 0
        if not isinstance(level, int) or level < min_level:
            return False
    return needle is None or needle in line.lower()


def _level_number(level: str | None) -> int:
    if not level:
        return 0
    name = level.strip().upper() if isinstance(level, str) else ""
    if name not in LEVELS:
        raise BadInput(f"level must be one of {', '.join(LEVELS)} (got {shown(level)})")
    return logging.getLevelName(name)


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
