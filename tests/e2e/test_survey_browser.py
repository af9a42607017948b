"""The survey in a real headless Chromium, at phone and desktop widths, without JavaScript."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from tests.e2e.steps import submit

pytestmark = pytest.mark.e2e

WIDTHS = {"phone": (360, 740), "desktop": (1280, 900)}


@pytest.mark.parametrize("device", list(WIDTHS))
def test_respondent_completes_survey_with_keyboard_and_resumes(
    browser, live_server, in_app, app, screenshot_dir, device
):
    with in_app() as make:
        token = make.link(make.campaign())
        questionnaire = make.questionnaire()
    width, height = WIDTHS[device]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="nl-NL", java_script_enabled=False
    )
    page = context.new_page()
    shots = 0

    def shot(name: str) -> None:
        nonlocal shots
        if screenshot_dir is not None:
            shots += 1
            page.screenshot(
                path=screenshot_dir / f"{device}-{shots:02d}-{name}.png", full_page=True
            )

    page.goto(f"{live_server}/s/{token}")
    assert page.locator("html").get_attribute("lang") == "nl"
    shot("language")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Nederlands").check()
    submit(page, "Verder")
    shot("intro")
    assert "anoniem" in page.content()
    submit(page, "Begin met de vragenlijst")
    # Submitting an empty page shows the error summary.
    submit(page, "Volgende")
    assert page.locator(".error-summary").is_visible()
    shot("about-error")
    page.locator("input[name=role_level][value=employee]").check()
    submit(page, "Volgende")
    for number, dimension in enumerate(questionnaire.dimensions, start=1):
        assert page.locator("fieldset").count() == len(dimension.items)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if number == 1:
            shot("page-1")
            submit(page, "Volgende")
            assert page.locator(".error-summary a").count() == len(dimension.items)
            shot("page-1-errors")
        for item in dimension.items:
            # Keyboard: focus the first option of the group and move with the arrow keys.
            page.focus(f"#item-{item.id}-0")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("Space")
        if number == 2:
            # Close the browser mid-way and open the link again in a new one.
            context.close()
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="nl-BE",
                java_script_enabled=False,
            )
            page = context.new_page()
            page.goto(f"{live_server}/s/{token}")
            # The link shows the step where they stopped, whose form posts to its own address.
            assert page.locator("main form[action$='/page-2']").count() == 1
            for item in dimension.items:
                page.focus(f"#item-{item.id}-0")
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                page.keyboard.press("Space")
        submit(page, "Volgende")
    shot("comment")
    page.get_by_label("Opmerking (niet verplicht)").fill("Graag meer overleg tussen afdelingen.")
    submit(page, "Volgende")
    shot("review")
    assert page.get_by_text("Niet beantwoord").count() == 0
    submit(page, "Mijn antwoorden versturen")
    shot("done")
    assert "Bedankt" in page.content()
    page.goto(f"{live_server}/s/{token}")
    assert "al ontvangen" in page.content()
    shot("already")
    context.close()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
        values = set(db.session.scalars(sa.select(Answer.value)))
    assert values == {3}, "arrow right twice from the first option selects the third point"


def test_each_step_is_one_request_and_reload_and_back_fetch_steps(browser, live_server, in_app):
    """With JavaScript: a step's POST answers with the next page, and the history holds
    each step's own address, so reload and Back fetch with a GET and send nothing again."""
    with in_app() as make:
        token = make.link(make.campaign())
        questionnaire = make.questionnaire()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    documents: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: (
            documents.append((r.method, r.url.split(token, 1)[-1]))
            if r.resource_type == "document"
            else None
        ),
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server}/s/{token}")
    page.wait_for_url(f"**/s/{token}/language")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/intro")
    page.get_by_role("button", name="Start the survey").click()
    page.wait_for_url("**/about")
    page.locator("input[name=role_level][value=employee]").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/page-1")
    for item in questionnaire.dimensions[0].items:
        page.locator(f"#item-{item.id}-1").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/page-2")
    # One document request per step: the link's GET, then one POST per step.
    assert documents == [
        ("GET", ""),
        ("POST", "/language"),
        ("POST", "/intro"),
        ("POST", "/about"),
        ("POST", "/page-1"),
    ], documents
    heading = page.locator("h1").inner_text()
    assert heading == questionnaire.dimensions[1].name["en"]

    documents.clear()
    page.reload()
    assert documents == [("GET", "/page-2")], documents
    assert page.locator("h1").inner_text() == heading

    documents.clear()
    page.go_back()
    page.wait_for_url("**/page-1")
    assert page.locator("h1").inner_text() == questionnaire.dimensions[0].name["en"]
    # Back shows the page with the answers given, fetched anew or from the browser's
    # memory of the page; either way nothing is sent again.
    assert all(method == "GET" for method, _ in documents), documents
    for item in questionnaire.dimensions[0].items:
        assert page.locator(f"#item-{item.id}-1").is_checked()
    page.go_forward()
    page.wait_for_url("**/page-2")
    assert all(method == "GET" for method, _ in documents), documents
    assert dialogs == [], "the browser offered to send a form again"
    context.close()


def test_keyboard_focus_is_visible_on_radios_and_buttons(browser, live_server, in_app):
    with in_app() as make:
        token = make.link(make.campaign())
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/s/{token}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "language"
    # The native radio is transparent; the visible circle (label::before) gets the outline.
    style = page.evaluate(
        "getComputedStyle(document.activeElement.nextElementSibling, '::before').outlineStyle"
    )
    assert style == "solid"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    context.close()
