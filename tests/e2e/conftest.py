"""Real-browser fixtures: the app started as the README starts it (`streamlit run app.py`,
engine autostarted), and Debian's Chromium driven by Playwright. Screenshots on failure."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from engine.config import load_settings
from engine.reads.fleet import lease_info
from engine.store.db import get_engine, migrate
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
    if report.when == "call" and report.failed and getattr(item, "browser_tabs", None):
        report.sections.append(("what the browser showed", _browser_state(item)))


def _browser_state(item) -> str:
    """The failed test's tabs (URL and text), their console and the app's log tail, printed in
    the failure report: CI keeps no screenshots."""
    lines = []
    for _, tab, console in item.browser_tabs:
        try:
            text = tab.locator("body").inner_text(timeout=5_000)
        except Exception as exc:  # noqa: BLE001  (a crashed renderer is a finding, not an error)
            text = f"(no text: {type(exc).__name__})"
        lines += [f"url: {tab.url}", text[-3_000:], "-- console:", *console[-40:]]
    if "app" in item.funcargs:
        log = Path(item.funcargs["app"][1]["PAPERDESK_HOME"]).parent / "streamlit.out"
        if log.exists():
            lines += ["-- streamlit log:", *log.read_text(errors="replace").splitlines()[-40:]]
    return "\n".join(lines)


@pytest.fixture
def new_tab(browser, request):
    """Open a tab in a new browser context (`options` for browser.new_context); a failed test
    leaves each tab's screenshot and console in test-artifacts/."""
    opened: list[tuple] = []

    def open_tab(**options):
        context = browser.new_context(**{"viewport": {"width": 1440, "height": 1000},
                                         **options})
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        console: list[str] = []
        tab.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        tab.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        opened.append((context, tab, console))
        request.node.browser_tabs = opened
        return tab

    yield open_tab
    report = getattr(request.node, "report_call", None)
    for number, (context, tab, console) in enumerate(opened):
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = f"{request.node.name}-{number}"
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console))
        context.close()


@pytest.fixture
def page(new_tab):
    return new_tab()


def goto(page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)


def open_tab(page, name: str) -> None:
    """Click the tab `name` until it shows as selected: a click that lands while a live
    refresh redraws the tab strip is lost (a user clicks again)."""
    tab = page.get_by_role("tab", name=name)
    selected = page.get_by_role("tab", name=name, selected=True)

    def opened() -> bool:
        if selected.count() == 0:
            tab.click()
        return selected.count() > 0

    wait_until(opened, 60, poll=1.0, message=f"the {name} tab to open")


def choose(page, key: str, option: str) -> None:
    """Choose `option` in the selectbox `key` by typing it (the box filters its options as one
    types) and Enter: sturdier than clicking the box open and the option, which a rerun can
    close in between, or which could land on what lies under the list."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).wait_for()
    box.press("Enter")


def type_into(page, key: str, text: str, then: str = "Enter") -> None:
    """Type `text` into the input of widget `key`, then press `then` (Enter, or Tab to leave
    it without submitting a form)."""
    box = page.locator(f".st-key-{key} input")
    box.fill(text)
    box.press(then)


def name_a_btc_session(page, name: str) -> None:
    """On the New session form: type `name` and pick BTC-USD as its only symbol."""
    type_into(page, "new_name", name, "Tab")
    page.locator(".st-key-new_symbols input").click()
    page.get_by_role("option", name="BTC-USD", exact=True).click()
    page.keyboard.press("Escape")


def pick_sessions(page, box_key: str, ids, name: str) -> None:
    """Pick sessions `ids` (labelled '#ID `name` …') in the multiselect `box_key`."""
    box = page.locator(f".st-key-{box_key} input")
    for sid in ids:
        box.click()
        page.get_by_role("option", name=re.compile(f"^#{sid} {name} ")).click()
    page.keyboard.press("Escape")


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
