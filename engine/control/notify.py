"""Alerts that reach people: error events and alerts go out through apprise (Telegram, Slack,
Discord, e-mail, a webhook — any URL apprise knows), from PAPERDESK_NOTIFY_URLS. A notification
that fails becomes an event; it never stops the engine."""

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from engine.errors import ConfigError
from engine.store.db import session_scope
from engine.store.events import record_event
from engine.store.models import Event

NOTIFIED_KINDS = ("alert_drawdown", "alert_loss_streak", "alert_large_trade", "alert_stale",
                  "alert_fresh", "downtime", "stale")
BATCH = 50  # events sent per pass at most
SOURCE = "notifications"


def _apprise(urls: tuple[str, ...]):
    import apprise  # on use: only an engine with notification URLs loads it

    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            scheme = url.split("://", 1)[0]
            raise ConfigError(f"PAPERDESK_NOTIFY_URLS: a {scheme}:// URL apprise does not "
                              "accept (see apprise's list of services)")
    return sender


@dataclass(frozen=True)
class SendOutcome:
    targets: int  # notification URLs configured
    reached: int  # of them, how many took the test message

    @property
    def ok(self) -> bool:
        return self.reached == self.targets


def _send_each(urls: tuple[str, ...]) -> SendOutcome:
    if not urls:
        raise ConfigError("PAPERDESK_NOTIFY_URLS is empty: nothing to send a test to")
    senders = [_apprise((url,)) for url in urls]  # every URL checked before anything is sent
    reached = sum(bool(sender.notify(title="PaperDesk test", body="Notifications reach you."))
                  for sender in senders)
    return SendOutcome(len(urls), reached)


def send_test(urls: tuple[str, ...]) -> bool:
    """Send one test message to every URL; True when all took it."""
    return _send_each(urls).ok


def send_test_and_record(db: Engine, urls: tuple[str, ...], by: str) -> SendOutcome:
    """Send a test message to each URL and record the outcome as an event naming who asked
    (a warning when a target did not take it); the URLs themselves are never recorded."""
    outcome = _send_each(urls)
    with session_scope(db) as s:
        if outcome.ok:
            record_event(s, SOURCE, "notify_test", f"test notification sent to "
                         f"{outcome.targets} target(s), asked by {by}")
        else:
            record_event(s, SOURCE, "notify_failed", f"test notification reached "
                         f"{outcome.reached} of {outcome.targets} target(s), asked by {by}",
                         "warning")
    return outcome


class Notifier:
    """Sends the events that matter, oldest first, from where it started (no replay of history)."""

    def __init__(self, db: Engine, urls: tuple[str, ...], logger: logging.Logger):
        self.db, self.log = db, logger
        self.sender = _apprise(urls)
        with Session(db) as s:
            self.after = s.execute(select(func.max(Event.id))).scalar() or 0

    def run_once(self) -> int:
        """Send what is new; return how many went out."""
        with Session(self.db) as s:
            rows = list(s.execute(
                select(Event.id, Event.severity, Event.source, Event.kind, Event.message)
                .where(Event.id > self.after, Event.source != SOURCE,
                       (Event.severity == "error") | Event.kind.in_(NOTIFIED_KINDS))
                .order_by(Event.id).limit(BATCH)).all())
        sent = 0
        for event_id, severity, source, kind, message in rows:
            self.after = event_id
            if self.sender.notify(title=f"PaperDesk {severity}: {source}", body=message):
                sent += 1
                continue
            self.log.warning("notification of event %d failed", event_id)
            with session_scope(self.db) as s:
                record_event(s, SOURCE, "notify_failed", f"could not send the {kind} alert of "
                             f"{source} (event {event_id}) to every notification URL", "warning")
        return sent
