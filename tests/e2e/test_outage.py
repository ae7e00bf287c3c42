"""The dashboard survives its database going away (issue 20, D7), in a real browser: with the
database gone under an open page, every page shows one banner ("Database unavailable since
HH:MM:SS UTC — retrying every N s"), no traceback and no driver text, and keeps the values it
had; once the database is back the page recovers by itself.

PostgreSQL (PAPERDESK_TEST_PG_URL set): the app runs on a PostgreSQL cluster of its own
(scripts/pg.sh on a free port and a data folder of its own), stopped and started under the
page, so the server the other tests share keeps running. SQLite: the database file is moved
away and put back."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engine.control import actions as control
from engine.store.db import get_engine, migrate
from tests.conftest import ROOT, replay_session, wait_until
from tests.e2e.conftest import _free_port, _healthy, goto, no_exception

pytestmark = pytest.mark.e2e
PG = bool(os.environ.get("PAPERDESK_TEST_PG_URL"))
PG_SH = str(ROOT / "scripts" / "pg.sh")
DRIVER_TEXT = ("Traceback", "OperationalError", "psycopg", "sqlite3", "Connection refused",
               "unable to open database")
BANNER = ".st-key-db_outage"


class PrivatePostgres:
    """A PostgreSQL cluster for one test: its own port and data folder."""

    def __init__(self):
        self.env = {**os.environ, "PAPERDESK_PG_PORT": str(_free_port()),
                    "PAPERDESK_PG_DATA": f"/tmp/paperdesk-pg-outage-{uuid.uuid4().hex[:8]}"}

    def start(self) -> str:
        done = subprocess.run(["bash", PG_SH, "start"], env=self.env, capture_output=True,
                              text=True, check=True, timeout=120)
        return done.stdout.strip()

    def stop(self) -> None:
        subprocess.run(["bash", PG_SH, "stop"], env=self.env, capture_output=True, check=False,
                       timeout=120)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.env["PAPERDESK_PG_DATA"], ignore_errors=True)


class MovedFile:
    """SQLite: the database file moved away (its WAL stays where it is) and put back."""

    def __init__(self, path: Path):
        self.path, self.away = path, path.with_name(path.name + ".away")

    def stop(self) -> None:
        self.path.rename(self.away)

    def start(self) -> None:
        self.away.rename(self.path)


@pytest.fixture
def outage_app(tmp_path):
    """`streamlit run app.py` (no engine) on a database this test may take away; yields
    (url, db, the database's stop/start)."""
    home = tmp_path / "home"
    env = {**os.environ, "PAPERDESK_HOME": str(home), "PAPERDESK_AUTOSTART": "0"}
    env.pop("DATABASE_URL", None)
    server = PrivatePostgres() if PG else None
    if server is not None:
        env["DATABASE_URL"] = server.start()
    url = env.get("DATABASE_URL") or f"sqlite:///{home / 'paperdesk.db'}"
    db = get_engine(url)
    migrate(db)
    replay_session(db, {"name": "kept", "symbols": "ETH-USD", "timeframe": "1d",
                        "from": "2019-09-01"}, status="completed")
    control.create_session(db, {"name": "idle", "symbols": "AAPL", "timeframe": "1d",
                                "strategy": "blend"})
    db.dispose()
    switch = server or MovedFile(home / "paperdesk.db")
    port = _free_port()
    log = tmp_path / "streamlit.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=ROOT, env=env, stdout=log.open("wb"),
        stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(address), 60, poll=0.25, message="the Streamlit server")
        yield address, switch
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if server is not None:
            server.remove()


def _text(page) -> str:
    return page.locator("body").inner_text()


def _banner_shown(page) -> bool:
    banner = page.locator(BANNER)
    return banner.count() == 1 and "Database unavailable since" in banner.inner_text()


def test_a_page_shows_one_banner_keeps_its_values_and_recovers_when_the_database_returns(
        outage_app, new_tab):
    url, database = outage_app
    page = new_tab()
    goto(page, url)
    page.get_by_text("kept").first.wait_for(state="attached")  # the desk shows the sessions
    database.stop()
    try:
        wait_until(lambda: _banner_shown(page), 60, poll=0.5, message="the outage banner")
        text = _banner_text = page.locator(BANNER).inner_text()
        assert "retrying every 2 s" in _banner_text, text
        assert page.get_by_text("kept").count() >= 1  # the last values stay on the page
        no_exception(page)
        assert not any(word in _text(page) for word in DRIVER_TEXT), _text(page)
        for path in ("agents", "sessions", "logs", ""):  # every page, opened in the outage
            other = new_tab()
            other.goto(f"{url}/{path}")
            wait_until(lambda p=other: _banner_shown(p), 60, poll=0.5,
                       message=f"the banner on /{path}")
            assert other.locator(BANNER).count() == 1
            no_exception(other)
            assert not any(word in _text(other) for word in DRIVER_TEXT), _text(other)
    finally:
        database.start()
    wait_until(lambda: page.locator(BANNER).count() == 0, 60, poll=0.5,
               message="the banner to go once the database is back")
    page.get_by_text("kept").first.wait_for(state="attached")
    page.get_by_role("heading", name="Overview", level=1).wait_for()
    no_exception(page)
