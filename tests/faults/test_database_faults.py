"""Database faults against a real engine process: the file vanishes, a fresh database races."""

import os

import pytest

from tests.conftest import cli, wait_until

pytestmark = pytest.mark.skipif(bool(os.environ.get("PAPERDESK_TEST_PG_URL")),
                                reason="a database file exists on SQLite only")


def test_a_vanished_database_stops_the_engine_loudly_and_no_read_creates_one(engine_proc, env):
    path = os.path.join(env["PAPERDESK_HOME"], "paperdesk.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    code = wait_until(lambda: engine_proc.proc.poll(), 10, message="the engine to stop")
    assert code == 1
    lines = [line for line in engine_proc.output().splitlines() if line.startswith("error:")]
    assert lines == [f"error: the database file {path} vanished or was replaced; stopping "
                     "(nothing more is written; restore the file or start afresh)"]
    for args in (["status"], ["sessions"], ["session", "show", "1"], ["logs", "engine"]):
        result = cli(env, *args)
        assert result.returncode == 4, (args, result.stderr)
        assert result.stderr.startswith(f"error: no database at {path}")
    assert not os.path.exists(path)
