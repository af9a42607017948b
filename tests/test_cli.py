"""The surveyapp command: each subcommand completes, or changes nothing and says why."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, Department, Invitation, Organisation, Response, User

from .test_import_export import response_csv


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def invoke(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input, catch_exceptions=False)


def test_full_administration_cycle(runner, ctx, factory, tmp_path):
    assert (
        invoke(
            runner,
            "org",
            "create",
            "--name",
            "Gemeente Voorbeeld",
            "--sector",
            "government",
            "--size",
            "250-999",
        ).exit_code
        == 0
    )
    deps = tmp_path / "deps.csv"
    deps.write_text("code,name,parent_code,headcount\nA,Alpha,,10\nB,Beta,A,5\n")
    result = invoke(runner, "departments", "import", "--org", "Gemeente Voorbeeld", str(deps))
    assert result.exit_code == 0, result.output
    result = invoke(
        runner,
        "campaign",
        "create",
        "--org",
        "Gemeente Voorbeeld",
        "--name",
        "2027",
        "--opens",
        "2020-01-01",
        "--closes",
        "2099-12-31",
    )
    assert result.exit_code == 0, result.output
    campaign_id = db.session.scalar(sa.select(Campaign.id))
    assert invoke(runner, "campaign", "open", str(campaign_id)).exit_code == 0
    links = tmp_path / "links.csv"
    result = invoke(
        runner,
        "invitations",
        "issue",
        "--campaign",
        str(campaign_id),
        "--per-department",
        "3",
        "--out",
        str(links),
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(links.read_text())))
    assert len(rows) == 6 and all("/s/" in r["link"] for r in rows)
    tokens = {r["link"].rsplit("/", 1)[1] for r in rows}
    stored = set(db.session.scalars(sa.select(Invitation.token_hash)))
    assert not tokens & stored, "raw tokens must never be stored"
    paper = tmp_path / "paper.csv"
    paper.write_text(response_csv(factory.questionnaire(), [("A", "employee", 3)] * 6))
    result = invoke(runner, "responses", "import", "--campaign", str(campaign_id), str(paper))
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.csv"
    export = ("responses", "export", "--campaign", str(campaign_id), "--out", str(out))
    result = invoke(runner, *export)
    assert result.exit_code == 1 and "released when it closes" in result.output
    result = invoke(
        runner,
        "user",
        "create",
        "--email",
        "m@example.org",
        "--role",
        "manager",
        "--org",
        "Gemeente Voorbeeld",
        input="quiet-harbour-lantern-42\nquiet-harbour-lantern-42\n",
    )
    assert result.exit_code == 0, result.output
    assert invoke(runner, "campaign", "close", str(campaign_id)).exit_code == 0
    result = invoke(runner, *export)
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(out.read_text())))) == 6
    db.session.expire_all()
    assert count(Response) == 6 and count(User) == 1


def test_bad_department_file_exits_nonzero_and_stores_nothing(runner, ctx, factory, tmp_path):
    factory.organisation("Org")
    before = count(Department)
    bad = tmp_path / "deps.csv"
    bad.write_text("code,name,headcount\nX,Ex,many\n")
    result = runner.invoke(args=["departments", "import", "--org", "Org", str(bad)])
    assert result.exit_code == 1
    assert "row 2, column 'headcount'" in result.output
    assert "nothing was stored" in result.output
    db.session.expire_all()
    assert count(Department) == before


def test_bad_response_file_exits_nonzero_and_stores_nothing(runner, ctx, factory, tmp_path):
    campaign = factory.campaign()
    bad = tmp_path / "paper.csv"
    text = response_csv(factory.questionnaire(), [("COM", "employee", 3), ("COM", "employee", 6)])
    bad.write_text(text)
    result = runner.invoke(args=["responses", "import", "--campaign", str(campaign.id), str(bad)])
    assert result.exit_code == 1
    assert "row 3" in result.output
    db.session.expire_all()
    assert count(Response) == 0


def test_duplicate_organisation_is_refused(runner, ctx):
    args = ["org", "create", "--name", "Dup", "--sector", "retail", "--size", "1-49"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "already exists" in result.output
    assert count(Organisation) == 1


def test_campaign_dates_are_checked(runner, ctx, factory):
    factory.organisation("Org")
    result = runner.invoke(
        args=[
            "campaign",
            "create",
            "--org",
            "Org",
            "--name",
            "x",
            "--opens",
            "2027-05-01",
            "--closes",
            "2027-04-01",
        ]
    )
    assert result.exit_code == 1 and "must come after" in result.output
    result = runner.invoke(
        args=[
            "campaign",
            "create",
            "--org",
            "Org",
            "--name",
            "x",
            "--opens",
            "first of May",
            "--closes",
            "2027-04-01",
        ]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    assert count(Campaign) == 0


def test_questionnaire_check_names_file_and_key(runner, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('id = "x"\nversion = "one"\n')
    result = runner.invoke(args=["questionnaire", "check", str(bad)])
    assert result.exit_code == 1
    assert "broken.toml" in result.output and "version" in result.output
    good = runner.invoke(
        args=["questionnaire", "check", "questionnaires/social-business-maturity-v1.toml"]
    )
    assert good.exit_code == 0, good.output


def test_user_token_prints_a_token_that_opens_the_api(runner, app, tmp_path):
    with app.app_context():
        assert (
            runner.invoke(
                args=["org", "create", "--name", "Org", "--sector", "retail", "--size", "1-49"]
            ).exit_code
            == 0
        )
        result = runner.invoke(
            args=["user", "create", "--email", "c@example.org", "--role", "consultant"],
            input="quiet-harbour-lantern-42\nquiet-harbour-lantern-42\n",
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["user", "token", "--email", "c@example.org", "--name", "bi"])
        assert result.exit_code == 0, result.output
        secret = result.stdout.strip().splitlines()[0]
        missing = runner.invoke(args=["user", "token", "--email", "x@example.org", "--name", "bi"])
        assert missing.exit_code == 1 and "No account" in missing.output
    response = app.test_client().get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200


def test_campaign_ids_beyond_the_column_range_get_a_clear_message(runner, ctx):
    for command in (["campaign", "open"], ["campaign", "close"]):
        result = runner.invoke(args=[*command, "99999999999999999999"])
        assert result.exit_code == 1
        assert "No campaign with id 99999999999999999999" in result.output
    result = runner.invoke(
        args=["responses", "export", "--campaign", "99999999999999999999", "--out", "-"]
    )
    assert result.exit_code == 1 and "No campaign with id" in result.output


def test_answer_export_from_the_cli_is_audited(runner, ctx, factory, tmp_path):
    from surveyapp.models import AuditEvent
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses

    campaign = factory.campaign()
    rows = [(code, "employee", 3) for code in ("COM", "HR", "IT") for _ in range(6)]
    import_responses(campaign, response_csv(factory.questionnaire(), rows), "r.csv")
    close_campaign(campaign)
    factory.commit()
    out = tmp_path / "answers.csv"
    result = invoke(
        runner, "responses", "export", "--campaign", str(campaign.id), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    events = db.session.execute(
        sa.select(AuditEvent.event, AuditEvent.actor, AuditEvent.detail)
    ).all()
    assert ("export", "cli", f"campaign {campaign.id}: answers as CSV (CLI)") in events
