"""Save screenshots of every page, light and dark, from a running PaperDesk.

Usage: python scripts/screenshots.py [--url http://localhost:8501] [--out docs/screenshots]
                                     [--session ID] [--compare ID,ID,...] [--only NAME,...]
Besides one picture of each page, it opens the overview desk's Exposure and Daily P&L tabs,
a session's page (its clock, progress and speed), its Chart, Reconcile, Fill models and
Parameters tabs and its Close position dialog, the Sweeps and Data tabs, the new-session form, a
comparison of sessions (the first three listed unless --compare), and the overview, the agents, the
logs and a session's page on a phone (390×844). Desktop pictures are as tall as the page's content.
Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
MAX_HEIGHT = 4000  # px; taller pages are cut
SETTLE_MS = 2500  # charts and live-refresh fragments draw after the page loads
FLOW = "iframe[title='streamlit_flow.streamlit_flow']"


def session_page(session: str | None) -> Callable[[Page], None]:
    """Open a session's page (the newest is open by default)."""
    def act(page: Page) -> None:
        if session:  # typed: the list of sessions is long and drawn only where it scrolls
            box = page.locator(".st-key-session_pick input").first
            box.click()
            box.fill(f"#{session} ")
            page.get_by_role("option", name=re.compile(f"^#{session} ")).first.wait_for()
            box.press("Enter")
    return act


def session_tab(session: str | None, tab: str, shown: str,
                button: str | None = None) -> Callable[[Page], None]:
    """A session's `tab` (after clicking its `button`, if any) once `shown` (a locator) is."""
    def act(page: Page) -> None:
        session_page(session)(page)
        page.wait_for_timeout(SETTLE_MS)
        page.get_by_role("tab", name=tab).click()
        if button:
            page.get_by_role("button", name=button).click()
        page.locator(shown).first.wait_for(timeout=120_000)
    return act


def desk_tab(tab: str, shown: str) -> Callable[[Page], None]:
    """The overview's desk on its `tab` once `shown` (a locator) is."""
    def act(page: Page) -> None:
        page.wait_for_timeout(SETTLE_MS)
        page.get_by_role("tab", name=tab).click()
        page.locator(shown).first.wait_for(timeout=60_000)
    return act


def close_dialog(session: str | None) -> Callable[[Page], None]:
    """A session's Close position dialog (asked, not confirmed)."""
    def act(page: Page) -> None:
        session_page(session)(page)
        page.wait_for_timeout(SETTLE_MS)
        page.locator(".st-key-sess_close_position button").first.click()
        page.get_by_role("dialog").first.wait_for()
    return act


def sweeps(page: Page) -> None:
    """The Sweeps tab: the newest sweep's ranking, heatmap and curves."""
    page.get_by_role("tab", name="Sweeps").click()
    page.wait_for_timeout(SETTLE_MS)


def measured(page: Page) -> None:
    """The agents page once every arrow's throughput is measured (the bar rate needs two
    samples a few seconds apart)."""
    labels = page.frame_locator(FLOW).locator(".react-flow__edge-text")
    for _ in range(40):
        if re.search(r"\d bars/min", " ".join(labels.all_text_contents())):
            return
        page.wait_for_timeout(500)


def strategy_card(page: Page) -> None:
    """The strategy agent's card with every strategy: built-in and the operator's files."""
    page.get_by_text("Your own: Python files in").first.wait_for(timeout=60_000)
    page.get_by_text("Your own: Python files in").first.scroll_into_view_if_needed()


def new_form(page: Page) -> None:
    """The New session tab with a symbol chosen (its data range and default window)."""
    page.get_by_role("tab", name="New session").click()
    box = page.locator(".st-key-new_symbols input").first
    box.click()
    page.get_by_role("option", name="BTC-USD").first.click()
    page.keyboard.press("Escape")


def data_tab(page: Page) -> None:
    """The Data tab: the imports with their provenance and the operator's upload form."""
    page.get_by_role("tab", name="Data").click()
    page.locator(".st-key-data_file").first.wait_for()


def compare(ids: list[str]) -> Callable[[Page], None]:
    def act(page: Page) -> None:
        page.get_by_role("tab", name="Compare").click()
        box = page.locator(".st-key-compare_ids input").first
        box.click()
        options = page.get_by_role("option")
        options.first.wait_for()
        first = [t.strip().split(" ", 1)[0] for t in options.all_inner_texts()
                 if t.startswith("#")][:3]  # not "Select all"
        page.keyboard.press("Escape")
        for label in [f"#{i}" for i in ids] or first:
            box.click()
            box.fill(f"{label} ")  # typed: only the options in view are drawn
            page.get_by_role("option", name=re.compile(f"^{label} ")).first.click()
        page.keyboard.press("Escape")
        page.locator(".stPlotlyChart").first.wait_for()
    return act


def shoot(page: Page, url: str, path: str, act: Callable[[Page], None] | None,
          target: Path, width: int, anchor: str | None = None) -> None:
    """Load a page at desktop size, act on it, then take it at `width`: a desktop picture as
    tall as the content (the main area scrolls by itself), or a phone screen from the top or
    from the `anchor` element (a session's name, clock and controls)."""
    page.set_viewport_size(DESKTOP)
    page.goto(f"{url}/{path}", wait_until="networkidle")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    page.wait_for_timeout(SETTLE_MS)
    if act:
        act(page)
        page.wait_for_timeout(SETTLE_MS)
    if width < DESKTOP["width"]:
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        page.wait_for_timeout(SETTLE_MS)
        if anchor:
            page.locator(anchor).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    elif page.get_by_role("dialog").count():  # a dialog stays as it is, at desktop size
        page.locator("[role='dialog'] h2").first.click()  # no focus ring left behind
    else:
        page.locator("[data-testid='stMain'] h1").first.click()  # no focus ring left behind
        height = page.evaluate(
            "document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": width, "height": min(MAX_HEIGHT, max(
            DESKTOP["height"], int(height)))})
    page.mouse.move(width // 2, 5)  # hover nothing (the sidebar would show its button)
    page.wait_for_timeout(800)
    page.screenshot(path=str(target))
    print(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--session", help="session id whose page to show (default: newest)")
    parser.add_argument("--compare", default="", help="session ids to compare, comma-separated")
    parser.add_argument("--only", default="", help="picture names to take, comma-separated "
                        "(default: all)")
    args = parser.parse_args()
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    args.out.mkdir(parents=True, exist_ok=True)
    ids = [i.strip() for i in args.compare.split(",") if i.strip()]
    wide, phone, heading = DESKTOP["width"], PHONE["width"], "[data-testid='stMain'] h3"
    shots = [  # name, path, action, width, what a phone picture starts at (None: the top)
        ("overview", "", None, wide, None),
        ("overview-phone", "", None, phone, None),
        ("overview-exposure", "", desk_tab("Exposure", ".st-key-desk_exposure"), wide, None),
        ("overview-daily-pnl", "", desk_tab("Daily P&L", "[class*='st-key-daily_pnl_']"),
         wide, None),
        ("agents", "agents", measured, wide, None),
        ("agents-phone", "agents", measured, phone, None),
        ("agents-strategies", "agents?agent=strategy", strategy_card, wide, None),
        ("sessions", "sessions", session_page(args.session), wide, None),
        ("sessions-chart", "sessions",  # candles, volume, the strategy's lines, its fills
         session_tab(args.session, "Chart", ".st-key-candles_chart"), wide, None),
        ("sessions-new", "sessions", new_form, wide, None),
        ("sessions-compare", "sessions", compare(ids), wide, None),
        ("sessions-reconcile", "sessions", session_tab(
            args.session, "Reconcile", "text=Fills matched", "Reconcile"), wide, None),
        ("sessions-fill-models", "sessions", session_tab(
            args.session, "Fill models", ".st-key-fill_models_chart",
            "Re-run with each fill model"), wide, None),
        ("sessions-parameters", "sessions", session_tab(
            args.session, "Parameters", ".st-key-edit_params"), wide, None),
        ("sessions-close-position", "sessions", close_dialog(args.session), wide, None),
        ("sessions-sweeps", "sessions", sweeps, wide, None),
        ("sessions-data", "sessions", data_tab, wide, None),
        ("sessions-phone", "sessions", session_page(args.session), phone, heading),
        ("logs", "logs", None, wide, None),
        ("logs-phone", "logs", None, phone, None),
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport=DESKTOP, color_scheme=scheme)
            for name, path, act, width, anchor in shots:
                if only and name not in only:
                    continue
                shoot(page, args.url, path, act, args.out / f"{name}-{scheme}.png", width,
                      anchor)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
