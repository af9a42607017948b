"""A consultant sets a client up in Chromium, without a terminal: organisation, a bad and
then a good department file, a campaign created, checked and opened."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ..dashboard_data import (
    CONSULTANT,
    fast_password_hashes,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.e2e

BAD = "code,name,parent_code,headcount\nHQ,Head office,,4\nOPS,,HQ,lots\n"
GOOD = "code,name,parent_code,headcount\nHQ,Head office,,4\nOPS,Operations,HQ,30\n"


def test_consultant_sets_up_a_client_and_opens_a_campaign(
    browser,
    live_server,
    in_app,
    tmp_path,
    screenshot_dir,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.services.users import create_user

    with in_app() as make:
        create_user(*CONSULTANT, "consultant")
        make.commit()
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(BAD)
    good.write_text(GOOD)

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()

    def shot(name: str) -> None:
        if screenshot_dir is not None:
            page.screenshot(path=screenshot_dir / f"setup-{name}-360.png", full_page=True)
        # Nothing is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name

    page.goto(f"{live_server}/consultant/setup/")
    page.fill("#email", CONSULTANT[0])
    page.fill("#password", CONSULTANT[1])
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/consultant/setup/")

    page.get_by_role("link", name="Add an organisation").click()
    page.get_by_label("Name of the organisation").fill("Gemeente Voorbeeld")
    page.get_by_label("Government").check()
    page.get_by_label("250-999").check()
    shot("organisation-new")
    page.get_by_role("button", name="Add the organisation").click()
    expect(page.locator("h1")).to_have_text("Gemeente Voorbeeld")

    page.get_by_role("link", name="Upload departments").click()
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Show a preview").click()
    expect(page.locator("h1")).to_have_text("The file cannot be used")
    problems = page.locator("#problems tbody tr")
    expect(problems).to_have_count(2)
    expect(page.get_by_role("button", name="Store these departments")).to_have_count(0)
    shot("departments-problems")

    page.get_by_role("link", name="Upload a corrected file").click()
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Show a preview").click()
    expect(page.locator("h1")).to_have_text("Check the departments")
    # Operations is drawn inside Head office.
    expect(page.locator(".department-tree ul li")).to_contain_text("Operations")
    shot("departments-preview")
    page.get_by_role("button", name="Store these departments").click()
    expect(page.locator(".notice[role=status]")).to_contain_text("The departments are stored")

    today = dt.date.today()
    page.get_by_role("link", name="Create a campaign").click()
    page.get_by_label("Name of the campaign").fill("Spring")
    page.get_by_label("Opening date").fill(today.isoformat())
    page.get_by_label("Closing date").fill(today.isoformat())  # not after opening: refused
    page.get_by_role("button", name="Save as draft").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The closing date must be after the opening date.")
    page.get_by_label("Closing date").fill((today + dt.timedelta(days=14)).isoformat())
    page.get_by_label("Responsible for the data (controller)").fill("Gemeente Voorbeeld")
    page.get_by_label("How to reach them about privacy").fill("privacy@voorbeeld.example")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".tag-draft")).to_be_visible()
    shot("campaign-draft")

    page.get_by_role("link", name="Check and open").click()
    expect(page.locator("h1")).to_have_text("Check the campaign before it opens")
    expect(page.locator("main")).to_contain_text("Opening fixes the departments")
    shot("campaign-check")
    page.get_by_role("button", name="Open the campaign").click()
    expect(page.locator(".tag-open")).to_be_visible()
    expect(page.get_by_role("link", name="Close the campaign")).to_be_visible()
    shot("campaign-open")
    context.close()
