"""Per-agent and per-session rotating log files (engine.log_files reads them)."""

import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from logging.handlers import RotatingFileHandler
from pathlib import Path

from engine.errors import single_line
from engine.log_files import check_log_id, log_path

MAX_BYTES = 20 * 1024 * 1024
BACKUPS = 3

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
