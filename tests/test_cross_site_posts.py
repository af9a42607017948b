"""A form posted from another site is refused, whatever token it carries."""

from __future__ import annotations

import re

import pytest

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def sign_in_attempt(client, **headers):
    page = client.get("/auth/login")
    token = CSRF_FIELD.search(page.text).group(1)
    return client.post(
        "/auth/login",
        data={"csrf_token": token, "email": "nobody@example.org", "password": "wrong"},
        headers=headers,
    )


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_a_post_from_another_site_is_refused_even_with_a_valid_token(client, site):
    answer = sign_in_attempt(client, **{"Sec-Fetch-Site": site})
    assert answer.status_code == 400
    assert "This form has expired" in answer.text and "Nothing was saved" in answer.text
    assert "The e-mail address or password is not right" not in answer.text


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_a_post_from_our_own_pages_or_without_fetch_metadata_is_judged_by_its_token(client, site):
    headers = {} if site is None else {"Sec-Fetch-Site": site}
    answer = sign_in_attempt(client, **headers)
    # Accepted as a form: the sign-in itself fails on the unknown address.
    assert "The e-mail address or password is not right" in answer.text
    assert "This form has expired" not in answer.text


def test_reading_a_page_linked_from_another_site_still_works(client):
    assert client.get("/auth/login", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
