"""Per-agent and per-session rotating log files (engine.log_files reads them)."""

import logging
import sys
import threading
import time
from collections import OrderedDict
from logging.handlers import RotatingFileHandler
from pathlib import Path

from engine.errors import single_line
from engine.log_files import log_path

MAX_BYTES = 20 * 1024 * 1024
BACKUPS = 3

MAX_OPEN_FILES = 128  # 1,000 sessions must not hold 1,000 file handles

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
        now = time.monotonic()
        if now - _FileHandler.last_error >= LOG_ERROR_EVERY_S:
            _FileHandler.last_error = now
            error = sys.exc_info()[1]
            sys.stderr.write(f"warning: cannot write the log {self.baseFilename} "
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
