"""Full-page screenshots of the main pages at phone and desktop width (headless Chromium).

Usage: python scripts/screenshots.py BASE_URL OUT_DIR [CAMPAIGN_ID [OPEN_CAMPAIGN_ID]]
Expects the demo data (`make run`): signs in as the demo manager and consultant. The
open campaign's page shows participation only (results wait for the campaign to close).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {"360": (360, 740), "1280": (1280, 900)}


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def main(base: str, out: Path, campaign: int, open_campaign: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "manager": [
            ("campaign", f"/results/campaigns/{campaign}"),
            ("dimension", f"/results/campaigns/{campaign}/dimensions/trust"),
            ("campaign-open", f"/results/campaigns/{open_campaign}"),
        ],
        "consultant": [("consultant", "/consultant/"), ("norms", "/consultant/norms")],
    }
    accounts = {
        "manager": ("manager@demo.example", "demo-manager-2026"),
        "consultant": ("consultant@demo.example", "demo-consultant-2026"),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=FLAGS
        )
        for width, (w, h) in WIDTHS.items():
            for role, targets in pages.items():
                context = browser.new_context(viewport={"width": w, "height": h}, locale="nl-BE")
                page = context.new_page()
                sign_in(page, base, *accounts[role])
                for name, path in targets:
                    page.goto(base + path)
                    overflow = page.evaluate("document.documentElement.scrollWidth") > w
                    target = out / f"{name}-{width}.png"
                    page.screenshot(path=target, full_page=True)
                    print(target, "OVERFLOWS" if overflow else "ok")
                context.close()
        browser.close()


if __name__ == "__main__":
    main(
        sys.argv[1],
        Path(sys.argv[2]),
        int(sys.argv[3]) if len(sys.argv) > 3 else 1,
        int(sys.argv[4]) if len(sys.argv) > 4 else 2,
    )
