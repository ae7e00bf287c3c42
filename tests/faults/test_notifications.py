"""Alerts that leave the app: a local webhook receives the engine's error events through
apprise; a receiver that fails becomes an event, and the engine keeps running."""

import pytest
from sqlmodel import Session, select

from engine.control import actions as control
from engine.store.models import Event
from tests.conftest import cli, start_engine, wait_until, webhook_server


@pytest.fixture
def receiver():
    with webhook_server() as hook:
        yield hook


def test_cli_sends_a_test_message_and_says_when_it_cannot(env, receiver):
    address, received = receiver
    ok = cli({**env, "PAPERDESK_NOTIFY_URLS": f"json://{address}/hook"}, "notify-test")
    assert (ok.returncode, ok.stdout.strip()) == (0, "test message sent")
    assert received[0]["title"] == "PaperDesk test"
    bad = cli({**env, "PAPERDESK_NOTIFY_URLS": f"json://{address}/fail"}, "notify-test")
    assert (bad.returncode, bad.stderr.strip()) == (
        1, "error: the test message did not reach every notification URL")
    unknown = cli({**env, "PAPERDESK_NOTIFY_URLS": "nosuchservice://x"}, "notify-test")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: PAPERDESK_NOTIFY_URLS: a nosuchservice:// URL")


def test_agent_errors_reach_the_webhook_and_a_failing_one_is_an_event(env, db, tmp_path,
                                                                     receiver):
    address, received = receiver
    urls = f"json://{address}/hook json://{address}/fail"
    engine = start_engine({**env, "PAPERDESK_NOTIFY_URLS": urls}, db, tmp_path / "engine.out")
    try:
        control.wait_for(db, control.update_agent_config(db, "sentiment", {
            "rss_feeds": f"http://{address}/feed", "interval_s": "0.2"}), 5)
        message = wait_until(lambda: next((m for m in received
                                           if "running → error" in m.get("message", "")), None),
                             20, message="the agent's error at the webhook")
        assert message["title"] == "PaperDesk error: sentiment"
        def failed_send():
            with Session(db) as s:
                return s.exec(select(Event).where(Event.kind == "notify_failed")).first()

        failed = wait_until(failed_send, 10, message="the failed send recorded")
        assert "sentiment" in failed.message
        assert engine.proc.poll() is None
    finally:
        engine.stop()
