"""The survey's loose ends in headless Chromium on a 360 px phone: the language switch,
"don't know" set apart, the live character count, and a long comment on the review."""

from __future__ import annotations

import pytest

from tests.e2e.steps import submit

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


def fits(page) -> bool:
    # Measure once the stylesheet has applied, not while the page is still arriving.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_walk_through_the_loose_ends(browser, live_server, in_app, screenshot_dir):
    with in_app() as make:
        token = make.link(make.campaign())
        questionnaire = make.questionnaire()
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    not_found = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)

    def shot(name: str) -> None:
        if screenshot_dir is not None:
            page.screenshot(path=screenshot_dir / f"loose-ends-{name}.png", full_page=True)

    page.goto(f"{live_server}/s/{token}")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Start the survey").click()
    page.locator("input[name=role_level][value=employee]").check()
    page.get_by_role("button", name="Next").click()

    # "Don't know" sits below an "or" divider, not in line with the scale points.
    first = questionnaire.dimensions[0].items[0]
    fieldset = page.locator(f"#item-{first.id}-fieldset")
    divider = fieldset.locator(".radio-divider").bounding_box()
    last_point = fieldset.locator(".radio").nth(-2).bounding_box()
    dont_know = fieldset.locator(".radio-dk").bounding_box()
    assert last_point["y"] + last_point["height"] <= divider["y"] + 1
    assert divider["y"] + divider["height"] <= dont_know["y"] + 1
    assert fieldset.locator(".radio-divider").inner_text() == "or"
    shot("page-1")

    # The header switches to Dutch on this page and keeps what was chosen.
    page.locator(f"label[for=item-{first.id}-1]").click()
    page.get_by_role("button", name="Nederlands").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/page-1")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_role("button", name="English").click()

    for number, dimension in enumerate(questionnaire.dimensions, start=1):
        page.wait_for_url(f"**/page-{number}")
        for item in dimension.items:
            page.locator(f"label[for=item-{item.id}-2]").click()
        page.get_by_role("button", name="Next").click()

    # A 3,000-character paste is kept whole in the field, counted live and refused.
    comment = page.locator("textarea#comment")
    comment.fill("x" * 3000)
    assert page.locator("#comment-limit").inner_text() == ("3000 of 2000 characters: 1000 too many")
    assert len(comment.input_value()) == 3000
    submit(page, "Next")
    assert "Your comment has 3000 characters; the limit is 2000." in page.content()
    assert fits(page)
    shot("comment-too-long")
    comment.fill("x" * 2000)
    assert page.locator("#comment-limit").inner_text() == "2000 of 2000 characters"
    page.get_by_role("button", name="Next").click()

    # The review: the unbroken comment wraps, the role level is listed.
    page.wait_for_url("**/review")
    assert fits(page), page.evaluate("document.documentElement.scrollWidth")
    assert page.locator("dd", has_text="Employee").count() == 1
    shot("review")

    # Change an answer from the review: Next comes back to the review.
    page.locator("a[href$='/page-2?from=review']").click()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/review")

    assert not [url for url in not_found if url.endswith("favicon.ico")]
    assert page.request.get(f"{live_server}/favicon.ico").ok
    context.close()
