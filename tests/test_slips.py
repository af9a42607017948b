"""Paper invitation slips: short codes that work as survey links, the page where staff type
them, and the PDF of slips that consultants print."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import subprocess
from pathlib import Path

import pytest
import segno
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Campaign, Invitation, Organisation, Response

from .conftest import Factory
from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    login,
)
from .test_survey import Respondent

CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{16}$")
PRINTED_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
# A code of our choosing, with the symbols people mistype: 0 and 1.
KNOWN_CODE = "K7QM4TXP9D105WZB"
BASE_URL = "https://survey.example.org"


# Fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def people(in_app, fast_password_hashes):  # noqa: F811
    """Acme (departments COM 12, HR 8, IT 20, IT-OPS 15 people), its manager, a consultant."""
    from surveyapp.services.users import create_user

    with in_app() as make:
        acme = make.organisation("Acme")
        create_user(*MANAGER, "manager", acme)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return acme.id


@pytest.fixture
def campaign_id(in_app, people) -> int:
    with in_app() as make:
        return make.campaign(db.session.get(Organisation, people)).id


@pytest.fixture
def consultant(client, people):
    login(client, CONSULTANT)
    return client


def store_code(in_app, campaign_id: int, code: str, department: str = "HR") -> None:
    """An invitation whose token is ``code``, as a printed slip makes it."""
    from surveyapp.services.invitations import selected_departments, store_invitations

    with in_app() as make:
        campaign = db.session.get(Campaign, campaign_id)
        (unit,) = selected_departments(campaign, [department])
        store_invitations(campaign, [(unit, code)])
        make.commit()


def post(client, url: str, data: dict, **kwargs):
    """POST with the session's CSRF token."""
    token = csrf_token(client.get("/code").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def type_code(client, text: str, **kwargs):
    return post(client, "/code", {"code": text}, **kwargs)


def slips_url(campaign_id: int) -> str:
    return f"/consultant/setup/campaigns/{campaign_id}/slips"


def check_and_confirm(client, campaign_id: int, **choices):
    """Fill in the slips form, read the ticket from the check page, and confirm."""
    form = {"department": "HR", "per_department": "", "language": "nl", **choices}
    check = post(client, slips_url(campaign_id), {**form, "action": "check"})
    assert check.status_code == 200, check.get_data(as_text=True)[:2000]
    ticket = re.search(r'name="ticket" type="hidden" value="([^"]+)"', check.get_data(as_text=True))
    assert ticket, "the check page has no ticket"
    confirm = {**form, "action": "confirm", "ticket": ticket.group(1)}
    return post(client, slips_url(campaign_id), confirm), confirm


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def codes_in(text: str) -> list[str]:
    return re.findall(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", text)


def count_invitations(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))


# Codes -------------------------------------------------------------------------------------


def test_codes_are_unique_in_crockford_base32_and_printed_in_groups_of_four(factory):
    from surveyapp.services.slips import CODE_ALPHABET, issue_codes

    campaign = factory.campaign()
    issued = issue_codes(campaign, 100)  # four departments
    factory.commit()
    codes = [i.code for i in issued]
    assert len(codes) == 400 and len(set(codes)) == 400
    assert all(CODE_SHAPE.match(code) for code in codes), codes[:5]
    assert all(
        PRINTED_SHAPE.match(i.printed) and i.printed.replace("-", "") == i.code for i in issued
    )
    assert not set("ILOU") & set(CODE_ALPHABET) and len(CODE_ALPHABET) == 32
    assert {i.department_code for i in issued} == {"COM", "HR", "IT", "IT-OPS"}


def test_codes_are_stored_only_as_hashes(app, in_app, campaign_id, database_url):
    from surveyapp.services.invitations import hash_token
    from surveyapp.services.slips import issue_codes

    with in_app() as make:
        issued = issue_codes(db.session.get(Campaign, campaign_id), 10)
        make.commit()
    with app.app_context():
        dump = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                dump.extend(str(value) for value in row)
    dump_text = "\n".join(dump)
    for item in issued:
        assert hash_token(item.code) in dump_text  # the dump does hold the invitations
        for form in (item.code, item.printed, item.code.lower(), item.code[:8]):
            assert form not in dump_text, f"{form} is in the database"
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
        assert not any(item.code.encode() in raw for item in issued)


@pytest.mark.parametrize(
    "typed",
    [
        "K7QM4TXP9D105WZB",
        "k7qm-4txp-9d10-5wzb",
        " K7QM 4TXP 9D10 5WZB ",
        "K7QM\u20134TXP\u20149D10\u20135WZB",  # the dashes a word processor makes
        "K7QM-4TXP-9DLO-5WZB",  # L read as 1, O as 0
        "k7qm4txp9dio5wzb",  # I read as 1
    ],
)
def test_typed_codes_are_read_loosely(typed):
    from surveyapp.services.slips import is_code, normalise_code

    assert normalise_code(typed) == KNOWN_CODE
    assert is_code(normalise_code(typed))


@pytest.mark.parametrize(
    "typed", ["K7QM4TXP9D105WZ", "K7QM4TXP9D105WZB0", "K7QM4TXP9DU05WZB", "K7QM#TXP9D105WZB"]
)
def test_text_without_a_codes_shape_is_not_a_code(typed):
    from surveyapp.services.slips import find_code, is_code, normalise_code

    assert not is_code(normalise_code(typed))
    assert find_code(normalise_code(typed)) is None


# The start page -------------------------------------------------------------------------


def test_a_typed_code_opens_the_survey_which_works_to_the_end(app, client, in_app, campaign_id):
    store_code(in_app, campaign_id, KNOWN_CODE)
    page = client.get("/code")
    assert page.status_code == 200
    assert 'name="code"' in page.get_data(as_text=True)
    response = type_code(client, " k7qm-4txp-9dlo-5wzb")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/s/{KNOWN_CODE}")

    with app.app_context():
        questionnaire = Factory(app).questionnaire()
    respondent = Respondent(client, KNOWN_CODE)
    review = respondent.answer_all(questionnaire)
    assert "Check your answers" in review.get_data(as_text=True)
    done = respondent.submit()
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
        assert db.session.scalars(sa.select(Invitation.used)).all() == [True]
        department = db.session.scalar(sa.select(Response.department_id))
        assert department == db.session.scalar(sa.select(Invitation.department_id))

    # The same code again: the survey says the answers were received, as for a used link.
    again = type_code(client, KNOWN_CODE, follow_redirects=True)
    assert again.status_code == 410
    assert "already received" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("K7QM-4TXP-9DRB-5WZB", "No survey has this code"),
        ("K7QM-4TXP", "you typed 8"),
        ("K7QM-4TXP-9DRU-5WZB", "no U"),
        ("", "Enter the code from your slip"),
    ],
)
def test_a_wrong_code_is_refused_in_the_error_summary(
    app, client, in_app, campaign_id, typed, message
):
    store_code(in_app, campaign_id, KNOWN_CODE)
    response = type_code(client, typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[
        page.index('class="error-summary"') : page.index("</div>", page.index("error-summary"))
    ]
    assert message in summary
    assert 'href="#code-fieldset"' in summary
    assert "Location" not in response.headers
    assert count_invitations(app) == 1
    with app.app_context():
        assert not db.session.scalar(sa.select(Invitation.used))


def test_wrong_codes_pause_the_client_but_not_others(app, in_app, campaign_id):
    from surveyapp.services.slips import WRONG_CODES_PER_CLIENT

    store_code(in_app, campaign_id, KNOWN_CODE)
    guesser = app.test_client()
    # Malformed text cannot be a lucky guess and is not counted.
    for _ in range(WRONG_CODES_PER_CLIENT + 5):
        assert type_code(guesser, "K7QM").status_code == 400
    statuses = [
        type_code(guesser, f"AAAA-BBBB-CCCC-{n:04d}").status_code
        for n in range(WRONG_CODES_PER_CLIENT)
    ]
    assert statuses == [400] * (WRONG_CODES_PER_CLIENT - 1) + [429]
    paused = type_code(guesser, KNOWN_CODE)
    assert paused.status_code == 429  # even the right code, or the pause would not hold
    assert int(paused.headers["Retry-After"]) > 0
    assert "Too many wrong codes" in paused.get_data(as_text=True)

    elsewhere = app.test_client()
    response = type_code(elsewhere, KNOWN_CODE, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302
    # Sign-in from the paused address has a counter of its own.
    page = guesser.get("/auth/login")
    signed_in = guesser.post(
        "/auth/login",
        data={
            "email": CONSULTANT[0],
            "password": CONSULTANT[1],
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert signed_in.status_code == 302


def test_a_code_of_a_closed_campaign_shows_the_closed_page(app, client, in_app, campaign_id):
    from surveyapp.services.campaigns import close_campaign

    store_code(in_app, campaign_id, KNOWN_CODE)
    with in_app() as make:
        close_campaign(db.session.get(Campaign, campaign_id))
        make.commit()
    response = type_code(client, KNOWN_CODE, follow_redirects=True)
    assert response.status_code == 410
    assert "This survey is closed" in response.get_data(as_text=True)


def test_start_page_in_dutch_and_linked_from_the_unknown_link_page(client):
    dutch = client.get("/code?lang=nl").get_data(as_text=True)
    assert "Typ de code van je briefje" in dutch
    assert 'href="/code?lang=en"' in dutch  # the switch to English
    unknown = client.get("/s/" + "x" * 43)
    assert unknown.status_code == 404
    assert 'href="/code"' in unknown.get_data(as_text=True)


def test_development_log_hides_slip_codes():
    from surveyapp import register_logging

    register_logging()
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '192.0.2.1 - - [x] "GET /s/%s/language HTTP/1.1" 302 -',
        (KNOWN_CODE,),
        None,
    )
    for log_filter in logging.getLogger("werkzeug").filters:
        log_filter.filter(record)
    assert KNOWN_CODE not in record.getMessage()
    assert "192.0.2.1" not in record.getMessage()


# Printing slips -----------------------------------------------------------------------------


def test_consultant_checks_then_downloads_the_slips(app, consultant, campaign_id, tmp_path):
    app.config["BASE_URL"] = BASE_URL
    page = consultant.get(slips_url(campaign_id))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Human resources (8 people)" in text
    assert "only copy" in text and "at random" in text

    response, _confirm = check_and_confirm(consultant, campaign_id, department="HR")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    path = tmp_path / "slips.pdf"
    path.write_bytes(response.data)
    assert pdf_pages(path) == 1
    printed = pdf_text(path)
    codes = codes_in(printed)
    assert len(codes) == 8 and len(set(codes)) == 8  # the HR headcount, one code each
    assert "survey.example.org/code" in printed
    assert "Human resources" in printed and "Acme" in printed
    assert count_invitations(app) == 8
    with app.app_context():
        (detail,) = db.session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.event == "slips_printed")
        ).all()
    assert f"campaign {campaign_id}: 8 paper slips for HR" in detail
    assert not any(code in detail or code.replace("-", "") in detail for code in codes)


def test_the_check_page_makes_nothing_and_confirming_twice_makes_one_set(
    app, consultant, campaign_id
):
    check = post(
        consultant,
        slips_url(campaign_id),
        {"department": "", "per_department": "", "language": "both", "action": "check"},
    )
    assert check.status_code == 200
    page = check.get_data(as_text=True)
    assert "55 slips" in page and "7 pages" in page  # 12 + 8 + 20 + 15 people
    assert count_invitations(app) == 0
    response, confirm = check_and_confirm(consultant, campaign_id, per_department="2")
    assert response.status_code == 200 and count_invitations(app) == 2
    again = post(consultant, slips_url(campaign_id), confirm)
    assert again.status_code == 409
    assert "already been made" in again.get_data(as_text=True)
    assert count_invitations(app) == 2


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"per_department": "0"}, "Enter a number of slips from 1 to 500."),
        ({"per_department": "many"}, "Enter a whole number"),
        ({"department": "", "per_department": "200"}, "That makes 800 slips"),
        ({"language": "fr"}, "Choose the language of the slips."),
    ],
)
def test_slips_form_refuses_bad_choices(app, consultant, campaign_id, choices, message):
    form = {"department": "HR", "per_department": "", "language": "nl", "action": "check"}
    response = post(consultant, slips_url(campaign_id), {**form, **choices})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_invitations(app) == 0


def test_a_department_without_headcount_needs_a_number(app, in_app, consultant, people):
    from surveyapp.services.organisations import update_department

    with in_app() as make:
        organisation = db.session.get(Organisation, people)
        hr = next(d for d in organisation.departments if d.code == "HR")
        update_department(hr, hr.name, None)
        campaign_id = make.campaign(organisation).id
    form = {"department": "HR", "per_department": "", "language": "en", "action": "check"}
    response = post(consultant, slips_url(campaign_id), form)
    assert response.status_code == 400
    assert "The number of people is not known for Human resources" in response.get_data(
        as_text=True
    )
    response = post(consultant, slips_url(campaign_id), {**form, "per_department": "3"})
    assert response.status_code == 200 and "3 slips" in response.get_data(as_text=True)


def test_a_closed_campaign_takes_no_slips(app, in_app, consultant, campaign_id):
    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.slips import issue_codes

    with in_app() as make:
        close_campaign(db.session.get(Campaign, campaign_id))
        make.commit()
    page = consultant.get(slips_url(campaign_id))
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/consultant/setup/campaigns/{campaign_id}")
    follow = consultant.get(page.headers["Location"]).get_data(as_text=True)
    assert "This campaign is closed: nobody can answer any more" in follow
    assert "Print paper slips" not in follow
    posted = post(
        consultant,
        slips_url(campaign_id),
        {"department": "HR", "per_department": "2", "language": "nl", "action": "confirm"},
    )
    assert posted.status_code == 302
    with app.test_request_context(), pytest.raises(ServiceError, match="closed"):
        issue_codes(db.session.get(Campaign, campaign_id), 1)
    assert count_invitations(app) == 0


def test_an_open_campaign_past_its_closing_date_takes_no_slips(factory):
    from surveyapp.services import ServiceError
    from surveyapp.services.slips import issue_codes

    today = dt.date.today()
    campaign = factory.campaign(
        opens_on=today - dt.timedelta(days=20), closes_on=today - dt.timedelta(days=1)
    )
    with factory.app.test_request_context(), pytest.raises(ServiceError, match="has passed"):
        issue_codes(campaign, 1)


def test_managers_cannot_print_slips(client, people, campaign_id, app):
    login(client, MANAGER)
    assert client.get(slips_url(campaign_id)).status_code == 403
    form = {"department": "HR", "per_department": "2", "language": "nl", "action": "confirm"}
    assert post(client, slips_url(campaign_id), form).status_code == 403
    assert count_invitations(app) == 0


def test_production_needs_the_public_address(app, consultant, campaign_id):
    app.config.update(ENV_NAME="production", BASE_URL=None)
    response = consultant.get(slips_url(campaign_id))
    assert response.status_code == 409
    assert "SURVEYAPP_BASE_URL" in response.get_data(as_text=True)


def test_campaign_page_links_the_slips(consultant, campaign_id):
    page = consultant.get(f"/consultant/setup/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'href="{slips_url(campaign_id)}"' in page


# The PDF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("slips", [8, 9, 17])
def test_the_pdf_has_eight_slips_to_a_page(factory, tmp_path, slips):
    from surveyapp.pdf import create_pdf
    from surveyapp.services.slips import issue_codes, slip_sheet

    campaign = factory.campaign()
    issued = issue_codes(campaign, slips, ["IT"])
    with factory.app.test_request_context():
        data = create_pdf(slip_sheet(campaign, issued, "both", BASE_URL), template="slips.html")
    path = tmp_path / "slips.pdf"
    path.write_bytes(data)
    assert pdf_pages(path) == math.ceil(slips / 8)
    printed = pdf_text(path)
    assert sorted(codes_in(printed)) == sorted(i.printed for i in issued)
    assert printed.count("survey.example.org/code") == slips


def test_each_qr_code_holds_its_survey_link(factory):
    """No QR decoder is installed here: the slip's SVG must be segno's drawing of the
    survey link of that very code (and not of another text)."""
    from surveyapp.pdf import report_html
    from surveyapp.services.slips import QR_ERROR_LEVEL, QR_QUIET_ZONE, issue_codes, slip_sheet

    campaign = factory.campaign()
    issued = issue_codes(campaign, 3, ["HR"])
    with factory.app.test_request_context():
        html = report_html(
            slip_sheet(campaign, issued, "nl", BASE_URL + "/"), template="slips.html"
        )

    def drawing(text: str) -> str:
        qr = segno.make(text, error=QR_ERROR_LEVEL, micro=False)
        return qr.svg_inline(omitsize=True, border=QR_QUIET_ZONE, svgclass="qr", lineclass=None)

    for item in issued:
        assert drawing(f"{BASE_URL}/s/{item.code}") in html
        assert drawing(f"{BASE_URL}/s/{item.printed}") not in html
    assert html.count('<svg viewBox="0 0 41 41" class="qr">') == 3
