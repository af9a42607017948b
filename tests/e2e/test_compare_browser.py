"""A consultant compares two waves of one organisation with a norm group in a real
headless Chromium, and downloads the comparison PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..dashboard_data import (
    CONSULTANT,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
)
from ..test_consultant import more_organisations
from ..test_same_numbers import pdf_text

pytestmark = pytest.mark.e2e


def test_consultant_compares_two_waves_with_a_norm_group_and_downloads_the_pdf(
    browser,
    live_server,
    in_app,
    screenshot_dir,
    fast_password_hashes,  # noqa: F811
):
    with in_app() as make:
        results = build_results(make)
        more_organisations(make, 4)  # six organisations in all: a norm group can be added
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", CONSULTANT[0])
    page.fill("#password", CONSULTANT[1])
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/consultant/**")

    # One organisation ticked on the list: both of its closed campaigns are proposed.
    page.goto(f"{live_server}/consultant/")
    page.check(f"#org-{results.organisation_id}")
    page.locator("main form button[type=submit]", has_text="Compare").click()
    expect(page.locator("h1")).to_have_text("Choose what to compare")
    expect(page.locator(f"#campaign-{results.previous_id}")).to_be_checked()
    expect(page.locator(f"#campaign-{results.campaign_id}")).to_be_checked()
    page.get_by_label("All organisations (6)").check()
    if screenshot_dir is not None:
        page.screenshot(path=screenshot_dir / "compare-choose-1280.png", full_page=True)
    page.get_by_role("button", name="Show the comparison").click()

    expect(page.locator("h1")).to_have_text("2 campaigns side by side")
    overview = page.locator("table.table-compare")
    expect(overview).to_contain_text("Last year")
    expect(overview).to_contain_text("This year")
    expect(overview).to_contain_text("All organisations (6)")
    assert page.locator("section.compare-dimension .letters").count() >= 2
    if screenshot_dir is not None:
        page.screenshot(path=screenshot_dir / "compare-1280.png", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Comparison (PDF)").click()
    download = download_info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")
    text = pdf_text(data)
    assert "Last year" in text and "This year" in text
    assert "All organisations (6)" in text
    context.close()
