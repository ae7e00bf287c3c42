"""Feeds that hang or fail, against a real engine process: nothing else waits on them, the
engine still stops promptly, and a feed failing every tick puts its agent in error."""

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from engine.control import actions as control
from engine.reads import status
from engine.store.models import Event
from engine.store.types import utcnow
from tests.conftest import wait_until

HANG_S = 30  # the test server answers a hanging request after this at the latest


@pytest.fixture
def feed_server():
    """A local HTTP server: /hang never answers in time, /fail answers 500."""
    release, hanging = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's API name)
            if self.path == "/hang":
                hanging.set()
                release.wait(HANG_S)
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", hanging
    release.set()
    server.shutdown()
    server.server_close()


def _ticks(db, agent_id: str) -> int:
    return status.agent(db, agent_id).ticks


def test_a_hung_feed_delays_no_other_agent_nor_a_stop(engine_proc, db, feed_server):
    address, hanging = feed_server
    control.wait_for(db, control.update_agent_config(db, "market_data", {"interval_s": "0.2"}),
                     5)
    control.wait_for(db, control.update_agent_config(db, "sentiment", {
        "rss_feeds": f"HTTP://{address}/hang", "interval_s": "0.5"}), 5)
    wait_until(hanging.is_set, 10, message="the sentiment agent to be stuck in its feed")
    before = _ticks(db, "market_data")
    started = time.monotonic()
    wait_until(lambda: _ticks(db, "market_data") >= before + 10, 5,
               message="market data to keep ticking while the feed hangs")
    queued = control.agent_action(db, "strategy", "stop")
    control.wait_for(db, queued, 2)
    assert time.monotonic() - started < 5
    stopping = time.monotonic()
    assert engine_proc.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - stopping < 5


def test_a_feed_failing_every_tick_puts_its_agent_in_error_with_backoff(engine_proc, db,
                                                                       feed_server):
    address, _ = feed_server
    wait_until(lambda: status.health(db).score == 100, 10, message="full health first")
    control.wait_for(db, control.update_agent_config(db, "sentiment", {
        "rss_feeds": f"http://{address}/fail", "interval_s": "0.5"}), 5)
    degraded = wait_until(lambda: (a := status.agent(db, "sentiment")).condition
                          == "degraded" and a, 10, message="the agent shown degraded")
    assert "500" in degraded.last_error
    report = wait_until(lambda: (h := status.health(db)).score < 100 and h, 10,
                        message="health to drop while a feed fails")
    assert report.errors_last_hour >= 1
    assert report.agents_running < report.agents_total
    failed = wait_until(lambda: (a := status.agent(db, "sentiment")).status == "error"
                        and a, 15, message="the failing feed's agent in error")
    assert "500" in failed.last_error
    assert failed.retry_at is not None
    with Session(db) as s:
        events = s.exec(select(Event.message).where(Event.source == "sentiment",
                                                    Event.severity == "error")).all()
    assert any("running → error" in m for m in events)
    assert status.agent(db, "market_data").status == "running"


def test_a_config_change_retries_an_agent_in_error_at_once(engine_proc, db, feed_server):
    """Switching a failing feed off (back to replay, or to a working feed) is tried at the
    agent's next tick, not when its backoff ends (issue 20: it stayed in error 60 s)."""
    address, _ = feed_server
    control.wait_for(db, control.update_agent_config(db, "sentiment", {
        "rss_feeds": f"http://{address}/fail", "interval_s": "0.5"}), 30)
    failed = wait_until(lambda: (a := status.agent(db, "sentiment")).status == "error"
                        and a, 60, message="the failing feed's agent in error")
    changed = time.monotonic()
    backoff_left = (failed.retry_at - utcnow()).total_seconds()
    control.wait_for(db, control.update_agent_config(db, "sentiment", {"rss_feeds": ""}), 30)
    wait_until(lambda: status.agent(db, "sentiment").status == "running", 60,
               message="the agent running again with its new settings")
    assert backoff_left > 5  # the first backoff after TRANSIENT_LIMIT failures is 16 s
    assert time.monotonic() - changed < backoff_left
