"""Save a screenshot of every page, light and dark, from a running PaperDesk.

Usage: python scripts/screenshots.py [--url http://localhost:8501] [--out docs/screenshots]
Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {"overview": "", "agents": "agents", "sessions": "sessions", "logs": "logs"}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8501")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 1440, "height": 1000},
                                    color_scheme=scheme)
            for name, path in PAGES.items():
                page.goto(f"{args.url}/{path}", wait_until="networkidle")
                page.wait_for_selector("[data-testid='stMain']", timeout=30_000)
                page.wait_for_timeout(2500)
                target = args.out / f"{name}-{scheme}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
