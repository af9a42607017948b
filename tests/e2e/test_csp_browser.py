"""The Content-Security-Policy in a real headless Chromium: no page breaks a rule of it.

Chromium reports each violation on the console ("... violates the following Content
Security Policy directive ...") and as a ``securitypolicyviolation`` event; both are
collected on every page of the survey and of the signed-in results. A page of the test
app with an inline style shows that the collection sees a violation when there is one.
"""

from __future__ import annotations

import io

import pytest

from ..dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""
BRAND = (0x0B, 0x3D, 0x63)  # --brand in app.css: the filled part of the progress bar


class PolicyWatch:
    """A browser page that remembers every policy violation it is shown."""

    def __init__(self, browser, width: int = 1280, height: int = 900):
        # JavaScript is on only to hear the violation events: the app sends none of its own.
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._console)
        self.violations: dict[str, list[str]] = {}

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
            self.console.append(message.text)

    def visit(self, url: str) -> None:
        """Open ``url`` and note what the policy blocked there."""
        response = self.page.goto(url)
        assert response is not None and response.status < 400, f"{url}: {response.status}"
        self.page.wait_for_load_state("load")
        self.note(url)

    def note(self, label: str) -> None:
        found = self.page.evaluate("window.__violations") + self.console
        self.console = []
        if found:
            self.violations[label] = found

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def inline_style_page(app):
    """A page that breaks the policy on purpose (added before the server's first request)."""

    def page():
        return '<!doctype html><p style="color: red">inline</p><style>p { margin: 0 }</style>'

    app.add_url_rule("/inline-style-canary", "inline_style_canary", page)
    return "/inline-style-canary"


def test_the_watch_sees_a_violation(browser, inline_style_page, live_server):
    watch = PolicyWatch(browser)
    watch.visit(live_server + inline_style_page)
    watch.close()
    assert watch.violations, "an inline style went unreported: the checks below would be blind"


def _bar_fraction(png: bytes) -> float:
    """The share of the progress bar's middle row drawn in the brand colour."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    row = [image.getpixel((x, image.height // 2)) for x in range(image.width)]
    filled = sum(
        1 for pixel in row if all(abs(a - b) <= 24 for a, b in zip(pixel, BRAND, strict=True))
    )
    return filled / image.width


@pytest.mark.parametrize("width", [360, 1280])
def test_survey_pages_keep_the_policy_and_show_progress(browser, live_server, in_app, width):
    with in_app() as make:
        token = make.link(make.campaign())
        pages = len(make.questionnaire().dimensions)
    watch = PolicyWatch(browser, width=width, height=800)
    base = f"{live_server}/s/{token}"
    watch.visit(base + "/language")
    watch.page.get_by_label("English").check()
    watch.page.get_by_role("button", name="Continue").click()
    watch.note("language chosen")
    for step in ("intro", "about", *(f"page-{n}" for n in range(1, pages + 1)), "comment"):
        watch.visit(f"{base}/{step}")
    watch.visit(f"{base}/review")
    watch.visit(f"{base}/page-3")
    assert not watch.violations, watch.violations
    bar = watch.page.locator("progress.progress")
    assert bar.is_visible()
    value, maximum = float(bar.get_attribute("value")), float(bar.get_attribute("max"))
    box = bar.bounding_box()
    main = watch.page.locator("main").bounding_box()
    assert box["height"] >= 6 and box["width"] >= main["width"] - 2 * 16 - 1
    # The bar is drawn, filled to the step: 3 of 11 is about 27 % of its width.
    assert _bar_fraction(bar.screenshot()) == pytest.approx(value / maximum, abs=0.04)
    watch.close()


def test_signed_in_pages_keep_the_policy(
    browser,
    live_server,
    in_app,
    fast_password_hashes,  # noqa: F811
):
    with in_app() as make:
        results = build_results(make)
        dimension = make.questionnaire().dimensions[0].id
    campaign = f"/results/campaigns/{results.campaign_id}"
    visits = {
        MANAGER: [
            f"/results/organisations/{results.organisation_id}",
            campaign,
            f"{campaign}/dimensions/{dimension}",
            f"{campaign}/departments/IT",
            "/results/api-tokens",
            "/auth/account",
        ],
        CONSULTANT: [
            "/consultant/",
            "/consultant/norms",
            f"/consultant/compare?organisation={results.organisation_id}"
            f"&organisation={results.other_organisation_id}",
            "/consultant/audit",
        ],
    }
    violations = {}
    for account, paths in visits.items():
        watch = PolicyWatch(browser)
        watch.visit(f"{live_server}/auth/login")
        watch.page.fill("#email", account[0])
        watch.page.fill("#password", account[1])
        watch.page.locator("main button[type=submit]").click()
        watch.page.wait_for_load_state("load")
        assert "/auth/login" not in watch.page.url, f"{account[0]} could not sign in"
        watch.note("after sign-in")
        for path in paths:
            watch.visit(live_server + path)
        violations.update(watch.violations)
        watch.close()
    assert not violations, violations
