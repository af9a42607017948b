"""Consultants invite managers by e-mail with a single-use link to set a first password."""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from .dashboard_data import csrf_token, fast_password_hashes  # noqa: F401 (fixture)
from .test_auth import post_form, post_login, sign_in, smtp_server  # noqa: F401 (fixture)

CONSULTANT = ("advisor@example.org", "quiet-harbour-lantern-42")
MANAGER = ("head@acme.example", "orange-violin-meadow-7")


@pytest.fixture
def setup(in_app, fast_password_hashes):  # noqa: F811
    from surveyapp.services.users import create_user

    with in_app() as make:
        organisation = make.organisation("Acme")
        create_user(*CONSULTANT, "consultant")
        create_user(*MANAGER, "manager", organisation)
        make.commit()
        return organisation.id


def body_of(envelope) -> str:
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    return message, message.get_content()


def test_invited_manager_sets_a_password_with_the_mailed_link(app, setup, smtp_server):  # noqa: F811
    port, messages = smtp_server
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, BASE_URL="https://survey.example.org"
    )
    consultant = app.test_client()
    sign_in(consultant, CONSULTANT)
    response = post_form(
        consultant,
        f"/consultant/setup/organisations/{setup}/people",
        {"email": "New.Head@Acme.example"},
    )
    assert response.status_code == 302, response.text[:500]
    assert len(messages) == 1 and messages[0].rcpt_tos == ["new.head@acme.example"]
    message, body = body_of(messages[0])
    assert "Acme" in message["Subject"] and "/" in message["Subject"]  # Dutch / English
    assert "Je hebt een account gekregen" in body and "You have been given an account" in body
    path = re.search(r"https://survey\.example\.org(/auth/reset/[A-Za-z0-9_-]+)", body).group(1)
    # No password works before the link is used.
    assert (
        post_login(app.test_client(), "new.head@acme.example", "anything-at-all-1").status_code
        == 400
    )
    manager = app.test_client()
    done = post_form(
        manager, path, {"password": "copper-lantern-river-8", "confirm": "copper-lantern-river-8"}
    )
    assert done.status_code == 302
    assert manager.get(path).status_code == 404  # used up
    assert post_login(manager, "new.head@acme.example", "copper-lantern-river-8").status_code == 302
    assert manager.get(f"/results/organisations/{setup}").status_code == 200
    page = consultant.get(f"/consultant/setup/organisations/{setup}/people").text
    assert "new.head@acme.example" in page


def test_without_mail_the_link_is_shown_once_to_the_consultant(app, setup):
    app.config.update(MAIL_SMTP_HOST=None, MAIL_OUTBOX=None, BASE_URL="https://survey.example.org")
    consultant = app.test_client()
    sign_in(consultant, CONSULTANT)
    response = post_form(
        consultant, f"/consultant/setup/organisations/{setup}/people", {"email": "x@acme.example"}
    )
    assert response.status_code == 200
    assert re.search(r"https://survey\.example\.org/auth/reset/[A-Za-z0-9_-]+", response.text)
    again = consultant.get(f"/consultant/setup/organisations/{setup}/people").text
    assert "/auth/reset/" not in again


def test_bad_or_existing_addresses_are_refused_and_nothing_is_made(app, setup, count):
    from surveyapp.models import User

    consultant = app.test_client()
    sign_in(consultant, CONSULTANT)
    before = count(User)
    for address in ("not an address", MANAGER[0]):
        response = post_form(
            consultant, f"/consultant/setup/organisations/{setup}/people", {"email": address}
        )
        assert response.status_code == 400
        assert "There is a problem" in response.text
    assert count(User) == before


def test_disabling_a_manager_ends_their_sessions(app, setup):
    manager = app.test_client()
    sign_in(manager, MANAGER)
    consultant = app.test_client()
    sign_in(consultant, CONSULTANT)
    page = consultant.get(f"/consultant/setup/organisations/{setup}/people")
    user_id = re.search(r"/people/(\d+)/disable", page.text).group(1)
    response = consultant.post(
        f"/consultant/setup/organisations/{setup}/people/{user_id}/disable",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 302
    assert manager.get(f"/results/organisations/{setup}").status_code == 302
    assert post_login(app.test_client(), *MANAGER).status_code == 400


def test_managers_cannot_see_or_invite(app, setup):
    manager = app.test_client()
    sign_in(manager, MANAGER)
    assert manager.get(f"/consultant/setup/organisations/{setup}/people").status_code == 403


def test_cli_invite_prints_a_link(app, runner, setup):
    result = runner.invoke(
        args=[
            "user",
            "invite",
            "cli.head@acme.example",
            "--org",
            "Acme",
            "--base-url",
            "https://s.example",
        ]
    )
    assert result.exit_code == 0, result.output
    path = re.search(r"https://s\.example(/auth/reset/\S+)", result.output).group(1)
    client = app.test_client()
    assert client.get(path).status_code == 200
