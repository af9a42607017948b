"""The manager's campaign page in a real headless Chromium on a 360 px phone, no JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..dashboard_data import (
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.e2e


def test_manager_reads_campaign_page_on_a_phone(
    browser,
    live_server,
    in_app,
    screenshot_dir,
    fast_password_hashes,  # noqa: F811
):
    with in_app() as make:
        results = build_results(make)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server}/results/campaigns/{results.campaign_id}")
    assert "/auth/login" in page.url
    page.fill("#email", MANAGER[0])
    page.fill("#password", MANAGER[1])
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**/results/campaigns/{results.campaign_id}")
    if screenshot_dir is not None:
        page.screenshot(path=screenshot_dir / "dashboard-campaign-360.png", full_page=True)

    # Nothing is wider than the phone: wide tables and the heatmap scroll inside their box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Headline first, in words.
    headline = page.locator(".headline")
    expect(headline).to_be_visible()
    assert "Level" in headline.inner_text() and "Weakest dimension" in headline.inner_text()

    # The charts of the phone layout are the ones shown, each titled.
    for kind in ("dimensions", "gap", "change"):
        chart = page.locator(f".chart-narrow svg.chart-{kind}")
        assert chart.is_visible(), kind
        assert chart.get_attribute("aria-label")
        assert not page.locator(f".chart-wide svg.chart-{kind}").is_visible()
    heatmap = page.locator("#departments svg.chart-heatmap")
    assert heatmap.is_visible() and heatmap.get_attribute("aria-label")
    assert page.locator("#departments svg.chart-heatmap desc").text_content()

    # Each chart's text equivalent opens as a table, and the withheld cells say so.
    for section in ("dimensions", "departments", "gap", "change"):
        details = page.locator(f"#{section} details").first
        details.locator("summary").click()
        expect(details.locator("table")).to_be_visible()
    heat_table = page.locator("#departments table.table-heat")
    assert "withheld" in heat_table.locator("tr", has_text="Human resources").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
