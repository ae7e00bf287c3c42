"""Move SQLite's write-ahead log into the database file between the engine's ticks, on a
thread of its own, instead of inside the commit that crosses the log's size limit.

A tick at 5,000 sessions writes ~3,000 log pages; with SQLite's default limit (1,000 pages) a
commit in almost every tick also copied the log into the file, and the tick waited for it. The
engine's connections raise the limit (SQLITE_PRAGMAS: wal_autocheckpoint, a backstop now) and
this thread checkpoints after each tick, while the tick thread is idle: pages rewritten in
every tick (the session rows) are copied once, and the log restarts from its beginning when a
checkpoint finished (so its file stays at about one tick's pages). PASSIVE never waits for a
reader or blocks a writer; a failure (a read-only or vanished file) is logged once and retried.
"""

import logging
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

IDLE_S = 1.0  # checkpoint at least this often when no tick asks (sweeps, commands)


class WalCheckpointer:
    """A daemon thread that checkpoints `path`'s log when asked and every IDLE_S."""

    def __init__(self, path: Path, logger: logging.Logger):
        self.uri = f"file:{quote(str(path))}?mode=rw"  # never creates a vanished file
        self.log = logger
        self.asked = threading.Event()
        self.stopping = False
        self.failing = False
        self.checkpoints = 0  # completed ones (the tests read it)
        self.thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def request(self) -> None:
        """Checkpoint soon (after a tick's last commit)."""
        self.asked.set()

    def stop(self) -> None:
        self.stopping = True
        self.asked.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while not self.stopping:
            self.asked.wait(IDLE_S)
            self.asked.clear()
            if not self.stopping:
                self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint on a connection of its own (opened each time: the file
        may have been replaced)."""
        try:
            connection = sqlite3.connect(self.uri, uri=True, timeout=1)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            if not self.failing:
                self.log.warning("WAL checkpoint failed (%s); retrying each second",
                                 str(exc).replace("\n", " "))
            self.failing = True
            return
        if self.failing:
            self.log.info("WAL checkpoint works again")
        self.failing = False
        self.checkpoints += 1
