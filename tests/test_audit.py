"""The audit log: what each download and command records, the consultant page, pruning,
and that the log never holds respondent data."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Campaign, Invitation, Response, utcnow

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)
from .test_import_export import response_csv
from .test_survey import Respondent


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


@pytest.fixture
def accounts(in_app, fast_password_hashes):  # noqa: F811
    """Acme and Beta with the manager and consultant accounts, and no campaigns."""
    from surveyapp.services.users import create_user

    with in_app() as make:
        acme, beta = make.organisation("Acme"), make.organisation("Beta")
        create_user(*MANAGER, "manager", acme)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return SimpleNamespace(organisation_id=acme.id, other_organisation_id=beta.id)


@pytest.fixture
def quick_pdfs(monkeypatch):
    """These tests are about the log, not the PDF: skip the typesetting."""
    monkeypatch.setattr("surveyapp.pdf.create_pdf", lambda *args, **kwargs: b"%PDF-1.7 stub")
    monkeypatch.setattr("surveyapp.pdf.write_pdf", lambda html: b"%PDF-1.7 stub")


@pytest.fixture
def logged(app):
    """The audit rows as plain tuples, read in a fresh context, oldest first."""

    def read(event: str | None = None) -> list[sa.Row]:
        with app.app_context():
            query = sa.select(
                AuditEvent.event,
                AuditEvent.actor,
                AuditEvent.organisation_id,
                AuditEvent.user_id,
                AuditEvent.detail,
            ).order_by(AuditEvent.id)
            if event:
                query = query.where(AuditEvent.event == event)
            return list(db.session.execute(query))

    return read


def seed(
    days_ago: float, event="export", actor="someone@example.org", organisation=None, detail=""
):
    """An audit row written ``days_ago`` days ago (straight into the table, no pruning)."""
    entry = AuditEvent(
        occurred_at=utcnow() - dt.timedelta(days=days_ago),
        actor=actor,
        organisation_id=organisation,
        event=event,
        detail=detail,
    )
    db.session.add(entry)
    return entry


def invoke(runner, *args):
    result = runner.invoke(args=[str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


# ---------------------------------------------------------------------------------
# Downloads


@pytest.mark.parametrize(
    ("path", "event", "detail"),
    [
        ("responses.csv", "export", "answers as CSV"),
        ("responses.xlsx", "export", "answers as Excel"),
        ("results.csv", "results_download", "results as CSV (en)"),
        ("report.pdf", "report_download", "PDF report (en)"),
        ("report.pdf?department=IT-OPS", "report_download", "department IT-OPS: PDF report"),
    ],
)
def test_a_download_is_recorded_with_who_which_organisation_and_campaign(
    client, results, logged, quick_pdfs, path, event, detail
):
    login(client, CONSULTANT)
    response = client.get(f"/results/campaigns/{results.campaign_id}/{path}")
    assert response.status_code == 200
    response.close()
    ((row),) = logged(event)
    assert row.actor == CONSULTANT[0] and row.user_id is not None
    assert row.organisation_id == results.organisation_id
    assert row.detail.startswith(f"campaign {results.campaign_id}") and detail in row.detail


def test_a_managers_results_download_is_recorded_under_their_account(client, results, logged):
    login(client, MANAGER)
    assert client.get(f"/results/campaigns/{results.campaign_id}/results.csv").status_code == 200
    ((row),) = logged("results_download")
    assert row.actor == MANAGER[0] and row.organisation_id == results.organisation_id


def test_a_refused_download_records_nothing(client, results, logged):
    login(client, MANAGER)
    assert client.get(f"/results/campaigns/{results.campaign_id}/responses.csv").status_code == 403
    login(client, CONSULTANT)
    assert (
        client.get(f"/results/campaigns/{results.campaign_id}/report.pdf?department=HR").status_code
        == 404
    )
    assert logged("export") == [] and logged("report_download") == []


def test_a_comparison_pdf_is_recorded_once_per_organisation_compared(
    client, results, logged, quick_pdfs
):
    login(client, CONSULTANT)
    query = f"organisation={results.organisation_id}&organisation={results.other_organisation_id}"
    assert client.get(f"/consultant/compare.pdf?{query}").status_code == 200
    rows = logged("comparison_download")
    assert [r.organisation_id for r in rows] == [
        results.organisation_id,
        results.other_organisation_id,
    ]
    compared = f"campaigns {results.campaign_id}, {results.other_campaign_id}"
    assert all(r.actor == CONSULTANT[0] and compared in r.detail for r in rows)


# ---------------------------------------------------------------------------------
# Commands


def test_each_campaign_command_is_recorded_as_the_cli(
    runner, ctx, factory, logged, tmp_path, quick_pdfs
):
    organisation = factory.organisation("Gemeente Voorbeeld", departments="code,name\nA,Alpha\n")
    departments = tmp_path / "departments.csv"
    departments.write_text("code,name,parent_code,headcount\nA,Alpha,,10\nB,Beta,A,5\n")
    invoke(runner, "departments", "import", "--org", organisation.id, departments)
    invoke(
        runner,
        *("campaign", "create", "--org", "Gemeente Voorbeeld", "--name", "2027"),
        *("--opens", "2020-01-01", "--closes", "2099-12-31"),
    )
    campaign_id = db.session.scalar(sa.select(Campaign.id))
    invoke(runner, "campaign", "open", campaign_id)
    links = tmp_path / "links.csv"
    invoke(
        runner,
        "invitations",
        "issue",
        "--campaign",
        campaign_id,
        "--per-department",
        2,
        "--out",
        links,
    )
    paper = tmp_path / "paper.csv"
    paper.write_text(response_csv(factory.questionnaire(), [("A", "employee", 3)] * 6))
    invoke(runner, "responses", "import", "--campaign", campaign_id, paper)
    invoke(runner, "campaign", "close", campaign_id)
    invoke(runner, "report", "--campaign", campaign_id, "--lang", "en", "--out", tmp_path / "r.pdf")

    rows = logged()
    assert [r.event for r in rows] == [
        "departments_imported",
        "campaign_created",
        "campaign_opened",
        "invitations_issued",
        "responses_imported",
        "campaign_closed",
        "report_download",
    ]
    assert all(r.actor == "cli" and r.user_id is None for r in rows)
    assert all(r.organisation_id == organisation.id for r in rows)
    details = [r.detail for r in rows]
    assert details[0] == "2 departments"
    assert details[3] == f"campaign {campaign_id}: 4 links"
    assert details[4] == f"campaign {campaign_id}: 6 responses"
    assert details[6] == f"campaign {campaign_id}: PDF report (en)"


def test_a_failed_command_records_nothing(runner, ctx, factory, logged, tmp_path):
    campaign = factory.campaign()
    bad = tmp_path / "paper.csv"
    bad.write_text(response_csv(factory.questionnaire(), [("COM", "employee", 9)]))
    result = runner.invoke(args=["responses", "import", "--campaign", str(campaign.id), str(bad)])
    assert result.exit_code == 1
    assert logged() == []


def test_audit_list_prints_matching_events_newest_first(runner, ctx, factory):
    organisation = factory.organisation("Acme")
    seed(3, "export", "ann@example.org", organisation.id, "campaign 1: answers as CSV")
    closed = seed(2, "campaign_closed", "cli", organisation.id, "campaign 1")
    seed(1, "export", "bob@example.org", None, "campaign 2: answers as Excel")
    db.session.commit()
    lines = invoke(runner, "audit", "list", "--event", "export").output.splitlines()
    assert [line.split("\t")[2] for line in lines] == ["bob@example.org", "ann@example.org"]
    lines = invoke(runner, "audit", "list", "--org", "Acme", "--limit", "1").output.splitlines()
    assert lines[0].split("\t")[1:] == ["campaign_closed", "cli", "Acme", "campaign 1"]
    # From the day of the event two days ago: that event and the newer one, at any hour
    # of the day the test runs (the day of "two days and an hour ago" is three days ago
    # before 01:00 UTC).
    since = closed.occurred_at.date().isoformat()
    lines = invoke(runner, "audit", "list", "--since", since).output.splitlines()
    assert [line.split("\t")[1] for line in lines] == ["export", "campaign_closed"]
    result = runner.invoke(args=["audit", "list", "--event", "nonsense"])
    assert result.exit_code == 2 and "not an audit event" in result.output


# ---------------------------------------------------------------------------------
# Pruning


def test_prune_deletes_only_old_events_and_records_itself(runner, ctx, logged):
    seed(400, detail="old")
    seed(31, detail="just too old")
    seed(29, detail="recent")
    db.session.commit()
    result = invoke(runner, "audit", "prune", "--days", "30")
    assert "Deleted 2 audit events older than 30 days" in result.output
    rows = logged()
    assert [r.detail for r in rows] == ["recent", "2 events older than 30 days"]
    assert rows[1].event == "audit_pruned" and rows[1].actor == "cli"


def test_prune_keeps_the_configured_period_by_default(runner, app, ctx, logged):
    app.config["AUDIT_RETENTION_DAYS"] = 100
    seed(101, detail="old")
    seed(99, detail="kept")
    db.session.commit()
    assert "Deleted 1 audit events older than 100 days" in invoke(runner, "audit", "prune").output
    # Nothing left to delete: nothing deleted, and nothing recorded.
    assert "Deleted 0" in invoke(runner, "audit", "prune").output
    assert [r.detail for r in logged()] == ["kept", "1 events older than 100 days"]


def test_recording_an_event_prunes_once_the_oldest_is_a_day_past_the_period(ctx, logged):
    from surveyapp.services.audit import record

    seed(365.5, detail="expired, not yet a day")
    db.session.commit()
    record("campaign_closed", detail="first")
    db.session.commit()
    assert [r.detail for r in logged()] == ["expired, not yet a day", "first"]

    seed(366.5, detail="a day past")
    db.session.commit()
    record("campaign_closed", detail="second")
    db.session.commit()
    rows = logged()
    assert [r.detail for r in rows] == ["first", "2 events older than 365 days", "second"]
    assert rows[1].event == "audit_pruned" and rows[1].actor == "system"


# ---------------------------------------------------------------------------------
# The consultant page


@pytest.fixture
def events(accounts, in_app):
    """Six events over ten days in both organisations, by three actors."""
    with in_app():
        seed(10, "campaign_created", "cli", accounts.organisation_id, "campaign A")
        seed(8, "export", "consultant@example.org", accounts.organisation_id, "campaign B")
        seed(6, "results_download", "manager@acme.example", accounts.organisation_id, "campaign C")
        seed(4, "export", "consultant@example.org", accounts.other_organisation_id, "campaign D")
        seed(
            2,
            "report_download",
            "manager@beta.example",
            accounts.other_organisation_id,
            "campaign E",
        )
        seed(0.01, "campaign_closed", "cli", None, "campaign F")
        db.session.commit()
    return accounts


def shown(html: str) -> list[str]:
    """The details of the rows on the page, top to bottom."""
    return re.findall(r'<span class="hint">(campaign [A-F])</span>', html)


def day(days_ago: int) -> str:
    return (utcnow() - dt.timedelta(days=days_ago)).date().isoformat()


@pytest.mark.parametrize("path", ["/consultant/audit", "/consultant/audit?event=export"])
def test_managers_may_not_read_the_audit_log(client, accounts, path):
    assert client.get(path).status_code == 302  # not signed in: to the sign-in page
    login(client, MANAGER)
    assert client.get(path).status_code == 403


def test_the_log_shows_newest_first_with_descriptions(client, events):
    login(client, CONSULTANT)
    response = client.get("/consultant/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert shown(html) == [
        "campaign F",
        "campaign E",
        "campaign D",
        "campaign C",
        "campaign B",
        "campaign A",
    ]
    assert "Answers exported" in html and "Campaign closed" in html
    assert 'aria-current="page">Audit log' in html


def test_the_descriptions_are_in_dutch_for_a_dutch_reader(client, events):
    login(client, CONSULTANT)
    html = client.get("/consultant/audit?lang=nl").get_data(as_text=True)
    assert "Antwoorden geëxporteerd" in html and "Meting gesloten" in html
    assert "Answers exported" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("event=export", ["campaign D", "campaign B"]),
        ("organisation={other}", ["campaign E", "campaign D"]),
        ("actor=ACME", ["campaign C"]),
        ("actor=consultant&organisation={acme}", ["campaign B"]),
        ("since={d5}", ["campaign F", "campaign E", "campaign D"]),
        ("until={d5}", ["campaign C", "campaign B", "campaign A"]),
        ("since={d7}&until={d3}", ["campaign D", "campaign C"]),
        ("event=token_revoked", []),
    ],
)
def test_filters(client, events, query, expected):
    login(client, CONSULTANT)
    query = query.format(
        acme=events.organisation_id,
        other=events.other_organisation_id,
        d5=day(5),
        d7=day(7),
        d3=day(3),
    )
    response = client.get(f"/consultant/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert shown(html) == expected
    if not expected:
        assert "No events match these filters" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "Enter a date as YYYY-MM-DD"),
        ("since=2027-03-02&until=2027-03-01", "The end date must be the same as or after"),
        ("event=dropped_tables", "Choose an event type from the list"),
        ("organisation=x", "Choose an organisation from the list"),
    ],
)
def test_a_wrong_filter_is_named_in_an_error_summary(client, events, query, message):
    login(client, CONSULTANT)
    response = client.get(f"/consultant/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="error-summary"' in html and message in html
    assert shown(html) == []


def test_the_log_is_paged_a_hundred_to_a_page(client, accounts, in_app):
    with in_app():
        for k in range(205):
            seed(k / 1000, detail=f"event {k:03d}")
        db.session.commit()
    login(client, CONSULTANT)
    first = client.get("/consultant/audit?actor=someone").get_data(as_text=True)
    assert first.count("<time ") == 100 and "event 000" in first and "event 100" not in first
    assert "Events 1–100 of 205" in first and "Page 1 of 3" in first
    assert "/consultant/audit?actor=someone&amp;page=2" in first
    last = client.get("/consultant/audit?actor=someone&page=3").get_data(as_text=True)
    assert last.count("<time ") == 5 and "event 204" in last
    assert client.get("/consultant/audit?actor=someone&page=4").status_code == 404


def test_an_empty_log_says_so(client, accounts):
    login(client, CONSULTANT)
    html = client.get("/consultant/audit?event=token_revoked").get_data(as_text=True)
    assert "No events match these filters" in html
    with_nothing = client.get("/consultant/audit?actor=nobody-at-all").get_data(as_text=True)
    assert "<table" not in with_nothing


def test_a_fresh_log_explains_what_will_appear(client, app, accounts):
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent))  # the sign-in of the setup, if recorded
        db.session.commit()
    login(client, CONSULTANT)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()
    html = client.get("/consultant/audit").get_data(as_text=True)
    assert "Nothing has been recorded yet" in html and "<table" not in html


# ---------------------------------------------------------------------------------
# Never respondent data

COMMENT = "Mijn leidinggevende luistert nooit, zegt Zwaantje"
FIRST_RESPONSE_ID = 73_519_001  # digits that cannot be mistaken for a campaign id


def _number_responses_from(campaign: Campaign, first: int) -> Response | None:
    """Make the next response get id ``first``; returns the SQLite placeholder to delete."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('response', 'id'), :v, false)"),
            {"v": first},
        )
        return None
    # SQLite hands out max(id) + 1.
    placeholder = Response(
        id=first - 1,
        campaign_id=campaign.id,
        department_id=campaign.organisation.departments[0].id,
        questionnaire_version_id=campaign.questionnaire_version_id,
        role_level="employee",
        language="en",
        source="import",
        answer_codes=b"",
    )
    db.session.add(placeholder)
    return placeholder


def test_the_log_never_holds_respondent_data(
    client,
    in_app,
    runner,
    logged,
    tmp_path,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.services.users import create_user

    with in_app() as make:
        campaign = make.campaign(min_group_size=3, min_comment_group_size=3)
        campaign_id, organisation_id = campaign.id, campaign.organisation_id
        create_user(*CONSULTANT, "consultant")
        token = make.link(campaign, "COM")
        placeholder = _number_responses_from(campaign, FIRST_RESPONSE_ID)
        make.commit()
        placeholder_id = placeholder.id if placeholder else None
        questionnaire = make.questionnaire()

    # One respondent answers on the web, with a comment; three come from paper.
    respondent = Respondent(client, token)
    respondent.answer_all(questionnaire, comment=COMMENT)
    assert "Thank you" in respondent.submit().get_data(as_text=True)
    with in_app():
        if placeholder_id is not None:
            db.session.execute(sa.delete(Response).where(Response.id == placeholder_id))
            db.session.commit()
    ids = [item.id for item in questionnaire.items]
    paper = tmp_path / "paper.csv"
    paper.write_text(
        ",".join(["department", "role_level", "comment", *ids])
        + "\n"
        + "".join(
            f"COM,employee,Papieren opmerking {k},{','.join(['3'] * len(ids))}\n" for k in range(3)
        )
    )
    invoke(runner, "responses", "import", "--campaign", campaign_id, paper)
    invoke(runner, "campaign", "close", campaign_id)

    login(client, CONSULTANT)
    answers = client.get(f"/results/campaigns/{campaign_id}/responses.csv")
    assert COMMENT in answers.get_data(as_text=True)  # the export did carry the comment
    for path in ("responses.xlsx", "results.csv"):
        assert client.get(f"/results/campaigns/{campaign_id}/{path}").status_code == 200

    with in_app():
        response_ids = list(db.session.scalars(sa.select(Response.id)))
        invitation_ids = list(db.session.scalars(sa.select(Invitation.id)))
        token_hashes = list(db.session.scalars(sa.select(Invitation.token_hash)))
    assert len(response_ids) == 4 and min(response_ids) >= FIRST_RESPONSE_ID
    rows = logged()
    assert {"responses_imported", "campaign_closed", "export", "results_download"} <= {
        r.event for r in rows
    }
    assert all(r.organisation_id in (organisation_id, None) for r in rows)
    forbidden = [
        COMMENT,
        "Zwaantje",
        "Papieren opmerking",
        token,
        *map(str, token_hashes),
        hashlib.sha256(token.encode()).hexdigest(),
        "127.0.0.1",
        *map(str, response_ids),
    ]
    for row in rows:
        text = f"{row.actor}\n{row.detail}"
        for secret in forbidden:
            assert secret not in text, (row.event, secret)
        numbers = {int(n) for n in re.findall(r"\d+", text)}
        assert not numbers & set(response_ids), row
        # Invitation ids are small and could equal a campaign id: only campaign ids appear.
        assert not re.search(r"invitation|response \d", text), row
    assert invitation_ids  # the link existed; its id is not in the log (checked above)
