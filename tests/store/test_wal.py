"""The engine's WAL checkpointer (SQLite files only, whatever database the suite runs on)."""

import logging

import sqlalchemy as sa

from engine.store.db import get_engine, migrate
from engine.store.wal import WalCheckpointer
from tests.conftest import wait_until

TICK_ROWS = 2_000  # ~150 log pages a tick
TICKS = 12


def _database(tmp_path, name: str):
    path = tmp_path / name
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine, path


def _tick(engine, n: int) -> None:
    """One tick's worth of writes: an event a row, in one transaction."""
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO event (ts, source, kind, message, severity) "
                          "VALUES (CURRENT_TIMESTAMP, 's', 'k', :m, 'info')"),
                  [{"m": f"tick {n} row {i} " + "x" * 120} for i in range(TICK_ROWS)])


def _log_size(path) -> int:
    return (path.parent / f"{path.name}-wal").stat().st_size


def test_a_checkpoint_after_each_tick_keeps_the_log_at_one_ticks_pages(tmp_path):
    """Without checkpoints the log holds every tick (the commits no longer copy it: the
    limit is 10,000 pages); with one after each tick it restarts and holds about one."""
    plain, plain_path = _database(tmp_path, "plain.db")
    checked, checked_path = _database(tmp_path, "checked.db")
    checkpointer = WalCheckpointer(checked_path, logging.getLogger("test"))
    _tick(plain, 0)
    first = _log_size(plain_path)  # the migrations' pages and a tick's
    _tick(plain, 1)
    one_tick = _log_size(plain_path) - first
    for n in range(2, TICKS):
        _tick(plain, n)
    for n in range(TICKS):
        _tick(checked, n)
        checkpointer.checkpoint()
    assert _log_size(plain_path) >= first + (TICKS - 1) * one_tick
    assert _log_size(checked_path) <= first + one_tick
    assert checkpointer.checkpoints == TICKS
    with checked.connect() as c:  # everything written is there
        assert c.execute(sa.text("SELECT count(*) FROM event "
                                 "WHERE message LIKE 'tick %'")).scalar() == TICKS * TICK_ROWS


def test_the_thread_checkpoints_when_asked_and_stops(tmp_path):
    engine, path = _database(tmp_path, "x.db")
    checkpointer = WalCheckpointer(path, logging.getLogger("test"))
    checkpointer.start()
    sizes = []
    try:
        for n in range(6):
            _tick(engine, n)
            sizes.append(_log_size(path))
            done = checkpointer.checkpoints
            checkpointer.request()
            wait_until(lambda done=done: checkpointer.checkpoints > done, timeout=10)
    finally:
        checkpointer.stop()
    assert not checkpointer.thread.is_alive()
    assert sizes[-1] == sizes[1]  # the log restarted after each tick: its file never grew


def test_a_vanished_file_is_reported_once_and_never_created(tmp_path, caplog):
    engine, path = _database(tmp_path, "gone.db")
    engine.dispose()
    path.unlink()
    checkpointer = WalCheckpointer(path, logging.getLogger("test.wal"))
    with caplog.at_level(logging.INFO, logger="test.wal"):
        for _ in range(3):
            checkpointer.checkpoint()
    assert not path.exists()
    assert checkpointer.checkpoints == 0
    assert checkpointer.failing
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "WAL checkpoint failed" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
