"""Helpers shared by the browser tests."""

from __future__ import annotations


def submit(page, button: str) -> None:
    """Press a submit button and return once the page it leads to has loaded.

    A click returns when the next document starts to arrive, so a check that does not
    wait (a count, ``page.content()``) can otherwise read a half-parsed page.
    """
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=button).click()
