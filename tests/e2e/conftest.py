"""Real-browser fixtures: the app started as the README starts it (`streamlit run app.py`,
engine autostarted), and Debian's Chromium driven by Playwright. Screenshots on failure."""

import os
import socket
import subprocess
import sys

import pytest
from playwright.sync_api import sync_playwright

from engine.config import load_settings
from engine.db import get_engine, migrate
from engine.lease import lease_info
from tests.conftest import ROOT, create_pg_database, drop_pg_database, wait_until

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_env() -> dict:
    """Extra environment for this module's app (a module overrides it, e.g. for
    PAPERDESK_NOTIFY_URLS)."""
    return {}


@pytest.fixture(scope="module")
def app(tmp_path_factory, pg_template, app_env):
    """`streamlit run app.py` on its own home and database; yields (url, env, db)."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    env = {**os.environ, "PAPERDESK_HOME": str(home), "PAPERDESK_AUTOSTART": "1", **app_env}
    env.pop("DATABASE_URL", None)
    if pg_template:
        env["DATABASE_URL"] = create_pg_database(pg_template)
    db = get_engine(load_settings(env).database_url)
    migrate(db)
    port = _free_port()
    log = home.parent / "streamlit.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=ROOT, env=env, stdout=log.open("wb"),
        stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), 60, poll=0.25, message="the Streamlit server")
        yield url, env, db
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        wait_until(lambda: not lease_info(db).online, 30, message="the engine to stop with "
                   "the app")
        if pg_template:
            drop_pg_database(env["DATABASE_URL"])


def _healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    console: list[str] = []  # what the browser said, kept beside a failure's screenshot
    tab.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        (ARTIFACTS / f"{request.node.name}.console.txt").write_text("\n".join(console))
    context.close()


def goto(page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def refreshes(page, count: int = 3):
    """Yield after each of the next `count` live refreshes of a session's page (its progress
    bar moves on with each new bar)."""
    progress = page.locator("[data-testid='stProgress']").first
    seen = progress.inner_text()
    for _ in range(count):
        wait_until(lambda old=seen: progress.inner_text() != old, 30, poll=0.2,
                   message="the next refresh")
        seen = progress.inner_text()
        yield
