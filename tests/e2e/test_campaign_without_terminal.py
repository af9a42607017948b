"""A whole campaign run from the browser, without a terminal, in headless Chromium.

A consultant sets up a client (organisation, a refused and then a good department file,
a campaign checked and opened), invites a manager, adds twenty staff addresses and sends
the invitations; ``surveyapp worker`` (a subprocess, as in production) delivers them to
an SMTP server in the test (aiosmtpd). Twelve people answer through their links (one in
Chromium, the others with the test client), the reminder reaches exactly the eight
others with the same links, the campaign closes and its addresses are gone; the manager
sets a password from the e-mailed link, signs in and downloads the PDF report.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .. import mail_fixtures
from ..dashboard_data import (
    CONSULTANT,
    fast_password_hashes,  # noqa: F401 (fixture)
)
from ..test_mailings import worker  # noqa: F401 (fixture: `surveyapp worker` in a subprocess)
from ..test_survey import Respondent, csrf_of

pytestmark = pytest.mark.e2e

inbox = mail_fixtures.inbox
mail_app = mail_fixtures.mail_app
BASE_URL = mail_fixtures.BASE_URL

BAD = "code,name,parent_code,headcount\nHQ,Head office,,15\nOPS,,HQ,lots\n"
GOOD = "code,name,parent_code,headcount\nHQ,Head office,,15\nOPS,Operations,HQ,25\n"
STAFF = {
    "HQ": [f"office{i:02d}@staff.example.org" for i in range(1, 11)],
    "OPS": [f"ops{i:02d}@staff.example.org" for i in range(1, 11)],
}
# Six answer in each department: at the threshold of 5 both get results of their own.
ANSWERING = STAFF["HQ"][:6] + STAFF["OPS"][:6]
SILENT = STAFF["HQ"][6:] + STAFF["OPS"][6:]
MANAGER_EMAIL = "director@voorbeeld.example"
MANAGER_PASSWORD = "violet-harbour-tractor-1987!"
SENDER = "surveys@example.org"
INVITATION_SUBJECT = "Enquête: Spring / Survey: Spring"


class QuickRespondent(Respondent):
    """The survey through the test client, posting each page with the session's CSRF
    token instead of loading the page first: a third fewer requests per person."""

    csrf: str | None = None

    def post(self, step, data, follow=True):
        if self.csrf is None:
            self.csrf = csrf_of(self.client.get(f"/s/{self.token}/{step}").get_data(as_text=True))
        data = {"csrf_token": self.csrf, **data}
        return self.client.post(f"/s/{self.token}/{step}", data=data, follow_redirects=follow)


def link_in(message, prefix: str) -> str:
    """The one link under ``prefix`` in a message (bilingual: the same link twice)."""
    text = message.get_body(("plain",)).get_content()
    links = {line.strip() for line in text.splitlines() if line.strip().startswith(prefix)}
    assert len(links) == 1, (message["To"], links)
    return links.pop()


def check_headers(address: str, message) -> None:
    """A message as a mail client shows it: to this one person, from us, nobody else."""
    assert message["To"] == address
    assert message["From"] == SENDER
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.org>")
    sent = parsedate_to_datetime(message["Date"])
    if sent.tzinfo is None:  # "-0000": the time is UTC, the sender's own zone not said
        sent = sent.replace(tzinfo=dt.UTC)
    assert abs(sent - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    for header in ("Bcc", "Cc", "Resent-To"):
        assert message[header] is None, header
    text = message.get_body(("plain",)).get_content()
    others = [a for a in (*STAFF["HQ"], *STAFF["OPS"], MANAGER_EMAIL) if a != address]
    assert not [a for a in others if a in text]


def reload_until(page, selector: str, text: str, attempts: int = 100) -> None:
    """Reload until ``selector`` shows ``text``: the worker marks its work a moment after
    the last message is out."""
    for _ in range(attempts):
        page.reload()
        if text in page.locator(selector).inner_text():
            return
        page.wait_for_timeout(100)
    expect(page.locator(selector)).to_contain_text(text)


def tables_holding(app, text: str) -> list[str]:
    """The tables with a row that contains ``text`` in any column."""
    from surveyapp.extensions import db

    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(sa.select(table)).all()
            if any(text in repr(tuple(row)) for row in rows):
                found.append(table.name)
    return found


def test_a_consultant_runs_a_campaign_and_a_manager_reads_the_report(
    browser,
    live_server,
    mail_app,
    in_app,
    inbox,
    worker,  # noqa: F811
    tmp_path,
    screenshot_dir,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.services.users import create_user

    worker.start()  # starting a process takes a few seconds: it does so while we set up
    with in_app() as make:
        create_user(*CONSULTANT, "consultant")
        make.commit()
        questionnaire = make.questionnaire()
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(BAD)
    good.write_text(GOOD)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()

    def shot(name: str) -> None:
        if screenshot_dir is not None:
            page.screenshot(path=screenshot_dir / f"campaign-{name}-1280.png", full_page=True)

    # 1. Sign in, organisation, a refused and a good department file, a campaign opened.
    page.goto(f"{live_server}/consultant/setup/")
    page.fill("#email", CONSULTANT[0])
    page.fill("#password", CONSULTANT[1])
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/consultant/setup/")

    page.get_by_role("link", name="Add an organisation").click()
    page.get_by_label("Name of the organisation").fill("Gemeente Voorbeeld")
    page.get_by_label("Government").check()
    page.get_by_label("250-999").check()
    page.get_by_role("button", name="Add the organisation").click()
    expect(page.locator("h1")).to_have_text("Gemeente Voorbeeld")

    page.get_by_role("link", name="Upload departments").click()
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Show a preview").click()
    expect(page.locator("h1")).to_have_text("The file cannot be used")
    expect(page.locator("#problems tbody tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Store these departments")).to_have_count(0)
    page.get_by_role("link", name="Upload a corrected file").click()
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Show a preview").click()
    expect(page.locator("h1")).to_have_text("Check the departments")
    page.get_by_role("button", name="Store these departments").click()
    expect(page.locator(".notice[role=status]")).to_contain_text("The departments are stored")

    today = dt.date.today()
    page.get_by_role("link", name="Create a campaign").click()
    page.get_by_label("Name of the campaign").fill("Spring")
    page.get_by_label("Opening date").fill(today.isoformat())
    page.get_by_label("Closing date").fill((today + dt.timedelta(days=14)).isoformat())
    page.get_by_label("Responsible for the data (controller)").fill("Gemeente Voorbeeld")
    page.get_by_label("How to reach them about privacy").fill("privacy@voorbeeld.example")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".tag-draft")).to_be_visible()
    campaign_url = page.url
    page.get_by_role("link", name="Check and open").click()
    expect(page.locator("h1")).to_have_text("Check the campaign before it opens")
    page.get_by_role("button", name="Open the campaign").click()
    expect(page.locator(".tag-open")).to_be_visible()

    # 2. A manager for the whole organisation, invited by e-mail.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Gemeente Voorbeeld"
    ).click()
    page.get_by_role("link", name="See and invite the managers of Gemeente Voorbeeld").click()
    page.get_by_label("E-mail address of the manager").fill(MANAGER_EMAIL)
    page.get_by_label("What may this manager see?").select_option(label="The whole organisation")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("main")).to_contain_text(
        f"{MANAGER_EMAIL} is invited: an e-mail with a link to set a password is on its way."
    )
    expect(page.locator("table tbody tr")).to_have_count(1)
    shot("managers")

    # 3. Twenty addresses in two departments; the invitations go now, after a check.
    page.goto(campaign_url)
    page.get_by_role("link", name="E-mail invitations and reminders").click()
    expect(page.locator("h1")).to_have_text("E-mail invitations and reminders")
    # The second department's link reads differently once some addresses are waiting.
    for code, link in zip(STAFF, ("Add addresses", "Add more addresses first"), strict=True):
        addresses = STAFF[code]
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_label("Department").select_option(value=code)
        # Pasted as people do: some on a line, separated by semicolons.
        page.get_by_label("E-mail addresses").fill(
            "; ".join(addresses[:5]) + "\n" + "\n".join(addresses[5:])
        )
        page.get_by_role("button", name="Add the addresses").click()
        expect(page.locator("h1")).to_have_text("E-mail invitations and reminders")
    facts = page.locator(".key-facts")
    expect(facts.locator(".summary-row").nth(0)).to_contain_text("20")
    expect(facts.locator(".summary-row").nth(1)).to_contain_text("20")
    # Counts only: no address is shown back.
    assert "@staff.example.org" not in page.content()
    shot("mail-addresses")
    page.get_by_role("link", name="Send the invitations").click()
    page.get_by_label("Now").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check before the invitations are sent")
    summary = page.locator(".summary")
    expect(summary).to_contain_text("today")
    expect(summary).to_contain_text("20 addresses, in 2 departments")
    shot("mail-check")
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.locator("h1")).to_have_text("E-mail invitations and reminders")

    # 4. The worker delivers: twenty invitations and the manager's e-mail, once each.
    received = inbox.wait_for(21, timeout=45)
    everyone = sorted(a for people in STAFF.values() for a in people)
    assert sorted(received) == sorted([*everyone, MANAGER_EMAIL])
    # One envelope per person: nobody is sent a message addressed to someone else too.
    assert len({id(message) for _, message in inbox.messages}) == 21
    links = {}
    manager_link = None
    for address, message in inbox.messages:
        check_headers(address, message)
        if address == MANAGER_EMAIL:
            assert message["Subject"] == (
                "Je account voor de resultaten van Gemeente Voorbeeld"
                " / Your account for the results of Gemeente Voorbeeld"
            )
            manager_link = link_in(message, BASE_URL + "/auth/reset/")
        else:
            assert message["Subject"] == INVITATION_SUBJECT
            assert message["Auto-Submitted"] == "auto-generated"
            links[address] = link_in(message, BASE_URL + "/s/")
    assert len(set(links.values())) == 20, "every person has a link of their own"
    assert len({m["Message-ID"] for _, m in inbox.messages}) == 21
    reload_until(page, ".chart-wide tbody tr:nth-child(1)", "20 of 20 sent")

    # 5. Twelve answer: one in Chromium on a phone, eleven with the test client.
    token_of = {address: link.rsplit("/", 1)[1] for address, link in links.items()}
    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    phone.set_default_timeout(10_000)
    staff_page = phone.new_page()
    staff_page.goto(links[ANSWERING[-1]].replace(BASE_URL, live_server))
    staff_page.get_by_label("English").check()
    staff_page.get_by_role("button", name="Continue").click()
    staff_page.get_by_role("button", name="Start the survey").click()
    staff_page.locator("input[name=role_level][value=employee]").check()
    staff_page.get_by_role("button", name="Next").click()
    for dimension in questionnaire.dimensions:
        expect(staff_page.locator("fieldset")).to_have_count(len(dimension.items))
        assert staff_page.evaluate("document.documentElement.scrollWidth") <= 360
        for item in dimension.items:
            staff_page.locator(f"input[name='item-{item.id}'][value='4']").check()
        staff_page.get_by_role("button", name="Next").click()
    staff_page.get_by_label("Comment").fill("More talk between departments, please.")
    staff_page.get_by_role("button", name="Next").click()
    expect(staff_page.locator("h1")).to_have_text("Check your answers")
    staff_page.get_by_role("button", name="Submit my answers").click()
    expect(staff_page.locator("h1")).to_have_text("Thank you")
    if screenshot_dir is not None:
        staff_page.screenshot(path=screenshot_dir / "campaign-survey-done-360.png")
    phone.close()

    for address in ANSWERING[:-1]:
        # A client per person: a new browser session, as each has their own device.
        respondent = QuickRespondent(mail_app.test_client(), token_of[address])
        review = respondent.answer_all(questionnaire, value="3")
        assert "Check your answers" in review.get_data(as_text=True)
        assert "Thank you" in respondent.submit().get_data(as_text=True)

    # 6. The reminder reaches the eight who did not answer, with the same links.
    page.get_by_role("link", name="Send a reminder").click()
    page.get_by_role("button", name="Send a reminder now").click()
    expect(page.locator("h1")).to_have_text("E-mail invitations and reminders")
    received = inbox.wait_for(21 + 8, timeout=30)
    assert len(received) == 29
    reminders = inbox.messages[21:]
    assert sorted(address for address, _ in reminders) == sorted(SILENT)
    for address, message in reminders:
        check_headers(address, message)
        assert message["Subject"].startswith("Herinnering")
        assert link_in(message, BASE_URL + "/s/") == links[address]
    # The page rounds the reminder's size down to the threshold, like every count of
    # who has (not) answered: eight reads as "at least 5".
    reload_until(
        page, ".chart-wide tbody tr:nth-child(2)", "to at least 5 people who had not answered"
    )
    shot("mail-reminded")

    # 7. The campaign closes after its confirmation page. Until then the addresses are
    # kept, for the reminders, and only in the recipients' table.
    assert tables_holding(mail_app, "@staff.example.org") == ["recipient"]
    page.goto(campaign_url)
    page.get_by_role("link", name="Close the campaign").click()
    expect(page.locator("h1")).to_have_text("Close the campaign")
    expect(page.locator("main")).to_contain_text("the e-mail addresses the invitations were")
    shot("close")
    page.get_by_role("button", name="Close the campaign").click()
    expect(page.locator(".tag-closed")).to_be_visible()
    context.close()

    # 8. No staff address is left anywhere in the database.
    assert tables_holding(mail_app, "@staff.example.org") == []

    # 9. The manager sets a password from the e-mail, signs in and downloads the report.
    manager = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
    )
    manager.set_default_timeout(10_000)
    page = manager.new_page()
    page.goto(manager_link.replace(BASE_URL, live_server))
    expect(page.locator("h1")).to_have_text("Set a new password")
    page.get_by_label("New password", exact=True).fill(MANAGER_PASSWORD)
    page.get_by_label("New password again").fill(MANAGER_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("main")).to_contain_text("Your new password is set. Sign in with it.")
    page.fill("#email", MANAGER_EMAIL)
    page.fill("#password", MANAGER_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.get_by_role("link", name="Spring").click()
    expect(page.locator("h1")).to_contain_text("Spring")
    expect(page.locator("main")).to_contain_text("12 of 40 staff")
    shot("results")
    # Making the PDF takes seconds, many more on a busy machine: a generous ceiling.
    with page.expect_download(timeout=90_000) as download_info:
        page.get_by_role("link", name="Report (PDF)").click()
    report = tmp_path / "report.pdf"
    download_info.value.save_as(report)
    manager.close()
    assert report.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(report)], capture_output=True, text=True, check=True)
    pages = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    assert int(pages.split()[1]) >= 2, info.stdout
