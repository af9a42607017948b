"""E-mail invitations and reminders in the browser, and live participation.

Consultants add addresses, send invitations (after a check page) and reminders through
the pages; the in-process worker delivers them to a real SMTP server (aiosmtpd). Every
figure that depends on who has answered is rounded, and the organisation's total cannot
be used to work out a small department (``services/participation.py``).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from html import unescape

import numpy as np
import pytest
import sqlalchemy as sa
from scipy.optimize import linprog

from . import mail_fixtures
from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    login,
)

inbox = mail_fixtures.inbox
mail_app = mail_fixtures.mail_app
thread_worker = mail_fixtures.thread_worker

FLAT = "code,name,parent_code,headcount\n" + "".join(
    f"D{i},Department {i},,20\n" for i in range(1, 5)
)


# Helpers ---------------------------------------------------------------------------------


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST with the session's CSRF token."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def text_of(response) -> str:
    """The page's words, without tags, spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def accounts(in_app, fast_password_hashes):  # noqa: F811
    """Acme with the factory's departments, its manager, and a consultant."""
    from surveyapp.services.users import create_user

    with in_app() as make:
        acme = make.organisation("Acme")
        create_user(*MANAGER, "manager", acme)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return acme.id


@pytest.fixture
def consultant(client, accounts):
    login(client, CONSULTANT)
    return client


def open_campaign(in_app, organisation_id: int, **settings) -> int:
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    with in_app() as make:
        return make.campaign(db.session.get(Organisation, organisation_id), **settings).id


def add(client, campaign_id: int, department: str, text: str):
    return post(
        client,
        f"/consultant/setup/campaigns/{campaign_id}/mail/addresses",
        {"department": department, "addresses": text},
    )


def send_invitations(client, campaign_id: int, when: str = "first", on: str = "") -> dt.date:
    """Choose the day, check, send: the three steps of the pages. Returns the day."""
    base = f"/consultant/setup/campaigns/{campaign_id}/mail/invitations"
    chosen = post(client, base, {"when": when, "on": on})
    assert chosen.status_code == 302, text_of(chosen)
    check = client.get(chosen.headers["Location"])
    assert check.status_code == 200 and "Check before the invitations are sent" in text_of(check)
    day = check.request.args["on"]
    sent = post(client, f"{base}/check", {"on": day})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/mail")
    return dt.date.fromisoformat(day)


def mark_answered(in_app, addresses: list[str]) -> None:
    """As if these recipients had used their links (a response has no link to them)."""
    from surveyapp.extensions import db
    from surveyapp.models import Invitation, Recipient

    with in_app():
        db.session.execute(
            sa.update(Invitation)
            .where(
                Invitation.id.in_(
                    sa.select(Recipient.invitation_id).where(Recipient.email.in_(addresses))
                )
            )
            .values(used=True)
        )
        db.session.commit()


def wait_until(check, attempts: int = 200) -> None:
    """Poll ``check`` (the worker runs in other threads) until it holds, or give up."""
    import time

    for _ in range(attempts):
        if check():
            return
        time.sleep(0.1)


def mailing_states(in_app) -> list[str]:
    from surveyapp.extensions import db
    from surveyapp.models import Mailing

    with in_app():
        return list(db.session.scalars(sa.select(Mailing.status).order_by(Mailing.id)))


def import_on_days(in_app, campaign_id: int, rows: list[tuple[str, dt.date, int]]) -> None:
    """Responses per (department, day, how many), through the import service."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.responses import import_responses

    with in_app() as make:
        items = [item.id for item in make.questionnaire().items]
        lines = ["department,role_level,submitted_on," + ",".join(items)]
        for code, day, n in rows:
            lines += [f"{code},employee,{day.isoformat()}," + ",".join("3" for _ in items)] * n
        campaign = db.session.get(Campaign, campaign_id)
        import_responses(campaign, "\n".join(lines) + "\n", "answers.csv")
        make.commit()


ADDRESSES = [f"person{i}@staff.example.org" for i in range(1, 13)]


# Access ----------------------------------------------------------------------------------


def test_managers_are_refused_every_page(client, accounts, in_app):
    campaign_id = open_campaign(in_app, accounts)
    login(client, MANAGER)
    base = f"/consultant/setup/campaigns/{campaign_id}"
    pages = ["mail", "mail/addresses", "mail/invitations", "mail/invitations/check"]
    for page in [*pages, "mail/reminders", "participation"]:
        assert client.get(f"{base}/{page}").status_code == 403, page
    for page in ["mail/addresses", "mail/invitations", "mail/invitations/check", "mail/reminders"]:
        assert post(client, f"{base}/{page}", {"now": "1"}).status_code == 403, page


def test_the_campaign_page_links_the_new_pages(consultant, accounts, in_app):
    campaign_id = open_campaign(in_app, accounts)
    html = consultant.get(f"/consultant/setup/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'href="/consultant/setup/campaigns/{campaign_id}/mail"' in html
    assert f'href="/consultant/setup/campaigns/{campaign_id}/participation"' in html


# Addresses -------------------------------------------------------------------------------


def test_addresses_are_added_per_department_and_only_counted_back(
    consultant, accounts, in_app, count
):
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent, Invitation, Recipient

    campaign_id = open_campaign(in_app, accounts)
    pasted = add(consultant, campaign_id, "COM", "; ".join(ADDRESSES[:3]) + ",\n" + ADDRESSES[3])
    assert pasted.status_code == 302
    upload = post(
        consultant,
        f"/consultant/setup/campaigns/{campaign_id}/mail/addresses",
        {
            "department": "IT-OPS",
            "file": (
                io.BytesIO(
                    (
                        "name,email\n"
                        + "".join(f"P{i},{a}\n" for i, a in enumerate(ADDRESSES[4:9]))
                    ).encode()
                ),
                "ops.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302, text_of(upload)
    assert count(Recipient) == 9 and count(Invitation) == 9
    page = consultant.get(f"/consultant/setup/campaigns/{campaign_id}/mail")
    words = text_of(page)
    assert "Communication COM 4" in words and "IT operations IT-OPS 5" in words
    assert "Addresses 9" in words and "Not invited yet 9" in words
    assert "staff.example.org" not in page.get_data(as_text=True)
    with in_app():
        details = db.session.scalars(
            sa.select(AuditEvent.detail)
            .where(AuditEvent.event == "invitations_issued")
            .order_by(AuditEvent.id)
        ).all()
    assert details == [
        f"campaign {campaign_id}: 4 links for e-mail to COM",
        f"campaign {campaign_id}: 5 links for e-mail to IT-OPS",
    ]


def test_a_bad_list_is_refused_whole_with_row_numbers(consultant, accounts, in_app, count):
    from surveyapp.models import Invitation, Recipient

    campaign_id = open_campaign(in_app, accounts)
    bad = "a@staff.example.org\nnot-an-address\n\nb@staff.example.org\nA@staff.example.org\n"
    response = add(consultant, campaign_id, "COM", bad)
    words = text_of(response)
    assert response.status_code == 400
    assert "There is a problem" in words and "Nothing was stored" in words
    assert "Row 2: “not-an-address” is not an e-mail address." in words
    assert "Row 5: A@staff.example.org is also on row 1." in words
    assert 'href="#addresses"' in response.get_data(as_text=True)
    assert count(Recipient) == 0 and count(Invitation) == 0

    # Separated by commas, rows count the addresses.
    response = add(consultant, campaign_id, "COM", "a@staff.example.org, b@@staff, c@staff.org")
    assert "Row 2: “b@@staff” is not an e-mail address." in text_of(response)
    assert "in the order you pasted them" in text_of(response)

    base = f"/consultant/setup/campaigns/{campaign_id}/mail/addresses"
    for name, data, message in [
        ("list.docx", b"a@staff.example.org\n", "Upload a .txt or .csv file."),
        ("list.txt", "é@staff.example.org\n".encode("latin-1"), "The file is not UTF-8 text."),
        ("list.csv", b"name,mail\nAda,a@staff.example.org\n", "no column called email"),
    ]:
        response = post(
            consultant,
            base,
            {"department": "COM", "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400 and message in text_of(response), name
    response = add(consultant, campaign_id, "", "a@staff.example.org")
    assert "Choose the department these people work in." in text_of(response)
    response = add(consultant, campaign_id, "COM", "")
    assert "Paste the addresses, or upload a file with them." in text_of(response)
    assert count(Recipient) == 0 and count(Invitation) == 0

    assert add(consultant, campaign_id, "COM", "a@staff.example.org").status_code == 302
    again = add(consultant, campaign_id, "HR", "b@staff.example.org\na@staff.example.org")
    assert "a@staff.example.org is already on this campaign's list." in text_of(again)
    assert count(Recipient) == 1 and count(Invitation) == 1


def test_addresses_wait_for_an_open_campaign(consultant, accounts, in_app, count):
    from surveyapp.models import Recipient

    draft = open_campaign(in_app, accounts, status="draft")
    assert "Open the campaign first" in text_of(
        consultant.get(f"/consultant/setup/campaigns/{draft}/mail")
    )
    response = add(consultant, draft, "COM", "a@staff.example.org")
    assert response.status_code == 302 and count(Recipient) == 0


# Invitations -----------------------------------------------------------------------------


def test_invitations_are_checked_then_sent_and_delivered(
    consultant, accounts, in_app, mail_app, thread_worker, inbox, count
):
    from surveyapp.models import Mailing

    inbox.refuse.add(ADDRESSES[5])
    campaign_id = open_campaign(in_app, accounts)
    assert add(consultant, campaign_id, "COM", "\n".join(ADDRESSES[:4])).status_code == 302
    assert add(consultant, campaign_id, "HR", "\n".join(ADDRESSES[4:6])).status_code == 302

    base = f"/consultant/setup/campaigns/{campaign_id}/mail/invitations"
    chosen = post(consultant, base, {"when": "first"})
    check = text_of(consultant.get(chosen.headers["Location"]))
    assert "6 addresses, in 2 departments" in check and "Sent on today" in check
    assert count(Mailing) == 0  # nothing happens before the confirmation
    assert send_invitations(consultant, campaign_id) == dt.date.today()
    assert sorted(inbox.wait_for(5)) == sorted(ADDRESSES[:5])
    for address, message in inbox.messages:
        assert message["To"] == address
        assert mail_fixtures.BASE_URL + "/s/" in message.get_body(("plain",)).get_content()

    wait_until(lambda: mailing_states(in_app) == ["done"])
    page = consultant.get(f"/consultant/setup/campaigns/{campaign_id}/mail")
    words = text_of(page)
    assert "Invitation" in words and "5 of 6 sent" in words
    assert "1 message could not be delivered" in words and "550 5.1.1 no such mailbox" in words
    assert "staff.example.org" not in page.get_data(as_text=True)
    # The refused address has had no invitation: a new one would go to it, and to
    # addresses added since, not to the five who have theirs.
    assert "1 address has not been invited yet." in text_of(consultant.get(base))
    assert add(consultant, campaign_id, "IT", "\n".join(ADDRESSES[6:8])).status_code == 302
    chosen = post(consultant, base, {"when": "first"})
    assert "3 addresses, in 2 departments" in text_of(consultant.get(chosen.headers["Location"]))
    assert count(Mailing) == 1


def test_invitations_on_a_chosen_day_or_the_opening_day(
    consultant, accounts, in_app, mail_app, thread_worker, count
):
    from surveyapp.extensions import db
    from surveyapp.models import Mailing, Organisation

    today = dt.date.today()
    early = open_campaign(
        in_app,
        accounts,
        opens_on=today + dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=20),
    )
    add(consultant, early, "COM", ADDRESSES[0])
    base = f"/consultant/setup/campaigns/{early}/mail/invitations"
    assert "On the opening day" in text_of(consultant.get(base))
    # A forged confirmation for a day outside the campaign changes nothing.
    response = post(consultant, f"{base}/check", {"on": "2099-01-01"})
    assert response.status_code == 302 and count(Mailing) == 0
    for on, message in [
        ("", "Enter the day the invitation should go."),
        ("2020-01-01", "That day has passed."),
        ((today + dt.timedelta(days=1)).isoformat(), "links work only while the campaign runs"),
        ("tomorrow", "Enter a date as YYYY-MM-DD"),
    ]:
        response = post(consultant, base, {"when": "date", "on": on})
        assert response.status_code == 400 and message in text_of(response), on
    assert count(Mailing) == 0
    assert send_invitations(consultant, early) == today + dt.timedelta(days=3)
    chosen = today + dt.timedelta(days=9)
    with in_app() as make:
        make.organisation("Other")
        other = db.session.scalar(sa.select(Organisation.id).filter_by(name="Other"))
    later = open_campaign(in_app, other)
    add(consultant, later, "IT", ADDRESSES[1])
    assert send_invitations(consultant, later, "date", chosen.isoformat()) == chosen
    with in_app():
        mailings = db.session.scalars(sa.select(Mailing).order_by(Mailing.id)).all()
        assert [(m.send_on, m.status) for m in mailings] == [
            (today + dt.timedelta(days=3), "scheduled"),
            (chosen, "scheduled"),
        ]
    words = text_of(consultant.get(f"/consultant/setup/campaigns/{later}/mail"))
    assert "Planned" in words and "made on the day" in words
    assert "The invitation goes on" in words


# Reminders -------------------------------------------------------------------------------


def test_the_reminder_button_reaches_only_those_who_have_not_answered(
    consultant, accounts, in_app, mail_app, thread_worker, inbox, runner
):
    campaign_id = open_campaign(in_app, accounts)
    add(consultant, campaign_id, "IT", "\n".join(ADDRESSES))
    send_invitations(consultant, campaign_id)
    assert sorted(inbox.wait_for(12)) == sorted(ADDRESSES)
    mark_answered(in_app, ADDRESSES[:3])

    url = f"/consultant/setup/campaigns/{campaign_id}/mail/reminders"
    assert "Send a reminder now" in text_of(consultant.get(url))
    sent = post(consultant, url, {"now": "1"})
    assert sent.status_code == 302
    inbox.wait_for(12 + 9)
    reminded = [a for a, m in inbox.messages if m["Subject"].startswith("Herinnering")]
    assert sorted(reminded) == sorted(ADDRESSES[3:])

    # Nine people were reminded: that says that three answered, so it is shown rounded.
    wait_until(lambda: mailing_states(in_app) == ["done", "done"])
    words = text_of(consultant.get(f"/consultant/setup/campaigns/{campaign_id}/mail"))
    mailings = words[words.index("Mailing Day State") : words.index("A reminder goes to those")]
    mailings = re.sub(r"\d{1,2} [A-Z][a-z]+ \d{4}", "(day)", mailings)
    assert "Reminder (day) Sent to at least 5 people who had not answered 0" in mailings
    assert not re.search(r"\b9\b", mailings), mailings
    status = runner.invoke(args=["invitations", "status", "--campaign", str(campaign_id)])
    assert "reminder on" in status.output and "messages 5 (rounded down" in status.output
    assert "9" not in status.output.split("reminder on")[1].split(":", 1)[1]


def test_reminders_are_refused_beyond_the_allowed_number_and_outside_the_campaign(
    consultant, accounts, in_app, mail_app, thread_worker, count
):
    from surveyapp.extensions import db
    from surveyapp.models import Mailing

    today = dt.date.today()
    campaign_id = open_campaign(in_app, accounts, max_reminders=1)
    url = f"/consultant/setup/campaigns/{campaign_id}/mail/reminders"
    add(consultant, campaign_id, "COM", ADDRESSES[0])
    response = post(consultant, url, {"now": "1"})
    assert response.status_code == 409
    assert "Send the invitations first" in text_of(response)
    send_invitations(consultant, campaign_id)

    late = (today + dt.timedelta(days=60)).isoformat()
    response = post(consultant, url, {"on": late})
    assert response.status_code == 400
    assert "links work only while the campaign runs" in text_of(response)
    assert (
        post(consultant, url, {"on": (today + dt.timedelta(days=2)).isoformat()}).status_code == 302
    )
    response = post(consultant, url, {"now": "1"})
    assert response.status_code == 409
    assert "This campaign allows 1 reminder and it is sent or planned" in text_of(response)
    assert "All the reminders this campaign allows are sent or planned" in text_of(
        consultant.get(url)
    )
    with in_app():
        kinds = db.session.scalars(sa.select(Mailing.kind).order_by(Mailing.id)).all()
    assert kinds == ["invitation", "reminder"]

    draft = open_campaign(in_app, accounts, status="draft")
    response = post(consultant, f"/consultant/setup/campaigns/{draft}/mail/reminders", {"now": "1"})
    assert response.status_code == 409
    assert "Reminders go only while the campaign is open." in text_of(response)
    assert count(Mailing) == 2


# Live participation ----------------------------------------------------------------------


def test_responses_per_day_are_cumulative_rounded_and_hidden_below_the_threshold(
    app, consultant, in_app
):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.invitations import issue_invitations
    from surveyapp.services.participation import live_participation
    from surveyapp.services.users import create_user

    today = dt.date.today()
    start = today - dt.timedelta(days=6)
    six = "code,name,parent_code,headcount\n" + "".join(f"D{i},D {i},,50\n" for i in range(6))
    with in_app() as make:
        organisation = make.organisation("Six", departments=six)
        organisation_id = organisation.id
        campaign = make.campaign(organisation, opens_on=start)
        campaign_id = campaign.id
        issue_invitations(campaign, 10)  # links, as the survey is answered online
        make.commit()
    import_on_days(
        in_app,
        campaign_id,
        [
            ("D0", start, 3),
            ("D1", start + dt.timedelta(days=1), 4),
            ("D2", start + dt.timedelta(days=3), 6),
            ("D3", start + dt.timedelta(days=4), 2),
        ],
    )
    with in_app():
        live = live_participation(db.session.get(Campaign, campaign_id))
    assert [d.day for d in live.days] == [start + dt.timedelta(days=i) for i in range(7)]
    assert [d.responses for d in live.days] == [None, 5, 5, 10, 15, 15, 15]
    assert not any(d.withheld for d in live.days)
    assert live.responses == 15 and live.headcount == 300 and live.rate == 0.05

    words = text_of(consultant.get(f"/consultant/setup/campaigns/{campaign_id}/participation"))
    assert "At least 15 people have responded so far." in words
    assert f"{start.day} {start.strftime('%B')} {start.year} fewer than 5" in words
    # Only D2 (6) reaches the threshold; the others are one row without a count.
    assert "D 2 5 10 50 10%" in words
    assert (
        "Departments with fewer than 5 responses so far (5 departments) not shown 50 250" in words
    )

    with in_app() as make:
        from surveyapp.models import Organisation

        six_organisation = db.session.get(Organisation, organisation_id)
        create_user("boss@six.example", "lantern-quarry-velvet-41", "manager", six_organisation)
        make.commit()
    manager_client = app.test_client()
    login(manager_client, ("boss@six.example", "lantern-quarry-velvet-41"))
    manager = text_of(manager_client.get(f"/results/campaigns/{campaign_id}"))
    assert "Responses per day" in manager and "At least 15 people have responded so far." in manager


def test_the_department_rows_are_the_participation_release(in_app):
    """The rows are release.participation's own figures: one number, one origin."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.participation import live_participation
    from surveyapp.services.release import participation

    with in_app() as make:
        campaign_id = make.campaign().id
    import_on_days(
        in_app,
        campaign_id,
        [("COM", dt.date.today(), 7), ("IT", dt.date.today(), 3), ("IT-OPS", dt.date.today(), 9)],
    )
    with in_app():
        campaign = db.session.get(Campaign, campaign_id)
        live = live_participation(campaign)
        released = {d.code: d.responses for d in participation(campaign).departments}
    assert {row.code: row.responses for row in live.departments} == {
        code: n for code, n in released.items() if n is not None
    }
    assert {row.code: row.headcount for row in live.departments} == {
        "COM": 12,
        "IT": 35,
        "IT-OPS": 15,
    }
    assert live.small is not None and (live.small.departments, live.small.headcount) == (1, 8)


def test_a_small_department_cannot_be_worked_out_by_subtracting_rows_from_the_total(
    client,
    in_app,
    fast_password_hashes,  # noqa: F811
):
    """Four departments with 9 responses each and one with 4: rounding each figure alone
    would show rows of 5 and a total of 40, and 40 - 4 x 9 pins the small one at 4."""
    from surveyapp.services.users import create_user

    departments = FLAT + "SMALL,Small team,,6\n"
    with in_app() as make:
        organisation = make.organisation("Flat", departments=departments)
        campaign_id = make.campaign(organisation).id
        create_user(*MANAGER, "manager", organisation)
        make.commit()
    today = dt.date.today()
    import_on_days(
        in_app,
        campaign_id,
        [*((f"D{i}", today, 9) for i in range(1, 5)), ("SMALL", today, 4)],
    )
    login(client, MANAGER)
    words = text_of(client.get(f"/results/campaigns/{campaign_id}"))
    rows = [int(n) for n in re.findall(r"Department \d at least (\d+)", words)]
    assert rows == [5, 5, 5, 5] and "Small team fewer than 5" in words
    total = int(re.search(r"At least (\d+) people have responded so far", words).group(1))
    # The attack: each shown row is at most its figure + 4, so the small team has at
    # least total - sum(row + 4) responses. That must say nothing (0 or less).
    assert total - sum(row + 4 for row in rows) <= 0, f"the small team has at least {total - 36}"
    assert total == 35
    assert "may be rounded further down" in words
    # And by the end of each day, as the chart and its table show.
    days = [int(n) for n in re.findall(r"\d+ \w+ \d{4} (\d+)", words)]
    assert days and max(days) == 35
    # The JSON API and the campaign list give the same total, never the plain 40.
    api = client.get(f"/api/v1/campaigns/{campaign_id}/participation").get_json()
    assert api["responses"] == 35
    listed = client.get("/api/v1/campaigns").get_json()["campaigns"]
    assert [c["responses"] for c in listed if c["id"] == campaign_id] == [35]


# The same promise for any organisation, checked by a reader who solves the equations.


def _subtree(tree, d):
    found, stack = [], [d]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(c for c, parent in tree.items() if parent == current)
    return found


def _reader_bounds(tree, rows, total, exact_total, heads, k, variable):
    """The smallest and largest count of ``variable`` (a list of departments whose sum is
    asked) that agrees with everything published, by linear programming over the
    departments' own counts (the constraint matrix is an interval matrix, so the bounds
    are whole numbers)."""
    ids = list(tree)
    index = {d: i for i, d in enumerate(ids)}
    upper, limits = [], []
    for d in ids:
        row = np.zeros(len(ids))
        row[[index[e] for e in _subtree(tree, d)]] = 1
        low, high = (rows[d], rows[d] + k - 1) if rows[d] is not None else (0, k - 1)
        upper += [row, -row]
        limits += [high, -low]
    if total is not None:
        upper.append(-np.ones(len(ids)))
        limits.append(-total)
        if exact_total:
            upper.append(np.ones(len(ids)))
            limits.append(total + k - 1)
    objective = np.zeros(len(ids))
    objective[[index[d] for d in variable]] = 1
    bounds = [(0, heads[d]) for d in ids]
    low = linprog(objective, A_ub=upper, b_ub=limits, bounds=bounds, method="highs")
    high = linprog(-objective, A_ub=upper, b_ub=limits, bounds=bounds, method="highs")
    assert low.status == 0 and high.status == 0
    return round(low.fun), round(-high.fun)


def test_the_total_never_narrows_what_the_rows_say_about_any_department():
    """On many random organisations (flat and trees, tiny departments and big ones): the
    bounds a reader can put on every department, from the rows and the headcounts, are the
    same with the published total as without it."""
    from surveyapp.services.participation import Node, release_counts

    rng = random.Random(20261201)
    checked = lowered = 0
    for _ in range(300):
        k = rng.choice([3, 5])
        size = rng.randint(1, 7)
        tree = {d: (rng.randrange(d) if d and rng.random() < 0.4 else None) for d in range(size)}
        heads = {d: rng.choice([0, 2, 4, 9, 30]) for d in tree}
        own = {d: rng.randint(0, heads[d]) for d in tree}
        published = release_counts([Node(d, tree[d], (heads[d],)) for d in tree], own, k)
        n = sum(own.values())
        if published.total is not None:
            assert published.total <= n and published.total % k == 0
        elif not published.withheld:
            assert n < k
        lowered += published.may_be_lowered
        if published.withheld:
            total, exact = None, False
        elif published.total is None:
            total, exact = 0, True  # "fewer than k"
        else:
            total, exact = published.total, not published.may_be_lowered
        # The same problem is solved once: a leaf's subtree is the leaf itself, and with
        # the total withheld both readers know the same.
        solved: dict[tuple, tuple[int, int]] = {}
        for d in tree:
            for variable in ([d], _subtree(tree, d)):
                found = []
                for known in ((None, False), (total, exact)):
                    key = (tuple(sorted(variable)), *known)
                    if key not in solved:
                        solved[key] = _reader_bounds(
                            tree, published.rows, *known, heads, k, variable
                        )
                    found.append(solved[key])
                alone, with_total = found
                assert with_total == alone, (tree, heads, own, published, variable)
                checked += 1
    assert checked > 500 and lowered > 10  # the rule was exercised, not only its easy side


def test_two_small_departments_keep_the_total_back_whatever_it_is():
    """With two departments under the threshold, "at least 5" would say both have
    someone; "fewer than 5" only when true would say so too. So neither is shown."""
    from surveyapp.services.participation import Node, release_counts

    nodes = [Node(1, None, (20,)), Node(2, None, (20,))]
    for own in ({}, {1: 1}, {1: 4, 2: 4}):
        published = release_counts(nodes, own, 5)
        assert (published.total, published.withheld) == (None, True), own
    published = release_counts(nodes, {1: 9, 2: 1}, 5)
    assert (published.total, published.may_be_lowered) == (5, True)


def test_a_limit_that_the_rows_contradict_is_not_used():
    """Responses on paper can exceed the links issued; a reader who sees that drops the
    bound, and so does the rule (else the total would be lowered for nothing)."""
    from surveyapp.services.participation import Node, release_counts

    # (headcount, invitations): no links at all, yet two departments show responses.
    nodes = [Node(d, None, (30, 0)) for d in range(4)]
    published = release_counts(nodes, {0: 7, 1: 6, 2: 3, 3: 2}, 5)
    assert published.rows == {0: 5, 1: 5, 2: None, 3: None}
    assert published.total == 15 and not published.may_be_lowered


def test_delivery_problems_never_name_an_address():
    from surveyapp.services.mailings import delivery_problem

    refused = (
        "SMTPRecipientsRefused: {'ann@staff.example.org': (550, b'5.1.1 <ann@staff.example.org>"
        " no such mailbox')}"
    )
    assert (
        delivery_problem(refused) == "SMTPRecipientsRefused: 550 5.1.1 <(address)> no such mailbox"
    )
    assert delivery_problem("ConnectionRefusedError: [Errno 111] Connection refused") == (
        "ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert "@" not in delivery_problem("SMTPDataError: (554, b'rejected for bob@x.example.org')")
