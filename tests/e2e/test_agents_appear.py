"""The Agents page opened before the engine has registered its agents (an engine's lease can
come first) fills in by itself: the cards and the pills belong to the page, not to a live
fragment, so without a run of the whole page it said "No agents registered yet" until a click
(seen once in CI, with the sidebar already listing four agents)."""

import subprocess
import sys

import pytest

from engine.reads.fleet import lease_info
from tests.conftest import ROOT, wait_until
from tests.e2e.conftest import goto, no_exception

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_pass]
WAITING = "No agents registered yet"
FLOW = "iframe[title='streamlit_flow.streamlit_flow']"


@pytest.fixture(scope="module")
def app_env() -> dict:
    return {"PAPERDESK_AUTOSTART": "0"}  # the engine starts when this test starts it


def test_the_agents_page_fills_in_once_the_engine_registers_its_agents(app, page):
    url, env, db = app
    goto(page, url, "agents")
    waiting = page.locator("[data-testid='stMain']").get_by_text(WAITING)
    waiting.wait_for()
    engine = subprocess.Popen([sys.executable, "-m", "engine", "run"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        card = page.locator("[data-testid='stMain'] h3").filter(has_text="Market data").first
        card.wait_for(timeout=60_000)  # no click, no reload
        assert waiting.count() == 0
        page.frame_locator(FLOW).locator(".react-flow__node[data-id='execution']").wait_for()
        no_exception(page)
    finally:
        engine.terminate()
        engine.wait(timeout=30)
        wait_until(lambda: not lease_info(db).online, 30, message="the engine to stop")
