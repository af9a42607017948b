"""The surveyapp command: each subcommand completes, or changes nothing and says why."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, Department, Invitation, Organisation, Response, User

from .dashboard_data import fast_password_hashes  # noqa: F401 (fixture)
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


# ---------------------------------------------------------------------------------
# Norm groups from the command line: the same offering rule and sentences as the web page


@pytest.fixture
def peers(in_app, fast_password_hashes):  # noqa: F811
    """Acme and Beta (government, 250-999) and eleven peers: for Acme's campaigns the
    sector has 6 other organisations, the size band 7, sector × size only Beta."""
    from .dashboard_data import build_results
    from .test_norm_groups import PEERS, add_peers

    with in_app() as make:
        results = build_results(make)
        add_peers(make, PEERS)
    return results


def audit_events() -> list[tuple[str, str, str]]:
    from surveyapp.models import AuditEvent

    return db.session.execute(
        sa.select(AuditEvent.event, AuditEvent.actor, AuditEvent.detail).order_by(AuditEvent.id)
    ).all()


def stored_norm_group(campaign_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).norm_group


def test_norm_group_command_changes_audits_and_lists(runner, app, peers):
    campaign_id = peers.campaign_id
    with app.app_context():
        result = invoke(runner, "campaign", "norm-group", str(campaign_id), "sector")
        assert result.exit_code == 0, result.output
        assert f"Campaign {campaign_id} now uses norm group sector (was all)" in result.output
        assert stored_norm_group(campaign_id) == "sector"
        assert audit_events()[-1] == (
            "campaign_changed",
            "cli",
            f"campaign {campaign_id}: norm_group: all → sector",
        )
        listed = invoke(runner, "campaign", "list", "--org", "Acme").output.splitlines()
        assert listed[0].endswith("\tquestionnaire\tnorm_group")
        groups = {row.split("\t")[2]: row.split("\t")[-1] for row in listed[1:]}
        assert groups == {"Last year": "all", "This year": "sector"}
        # The same group again: nothing changes and nothing is logged.
        events = len(audit_events())
        again = invoke(runner, "campaign", "norm-group", str(campaign_id), "sector")
        assert again.exit_code == 0
        assert "Nothing was changed: campaign" in again.output
        assert len(audit_events()) == events


@pytest.mark.parametrize(
    "group, message",
    [
        # One other organisation shares Acme's sector and size.
        (
            "sector_size",
            "has 1 other organisation(s) with results on this questionnaire "
            "version; at least 5 are needed. Choose another group.",
        ),
        ("planet", "Norm group 'planet' is not known; use one of: all, sector, size, sector_size."),
        ("  ", "Give a norm group: one of all, sector, size, sector_size."),
    ],
)
def test_norm_group_command_refuses_what_the_web_does_not_offer(runner, app, peers, group, message):
    campaign_id = peers.campaign_id
    with app.app_context():
        before = audit_events()
        result = runner.invoke(args=["campaign", "norm-group", str(campaign_id), group])
        assert result.exit_code == 1
        assert message in " ".join(result.output.split())
        assert stored_norm_group(campaign_id) is None
        assert audit_events() == before


def test_norm_group_command_refuses_a_group_close_to_a_larger_one(runner, app, peers):
    """Four healthcare peers become government: the sector (10) then leaves out only two
    of all organisations (12), whose scores could be worked out from the two."""
    with app.app_context():
        for name in ("Care 0", "Care 1", "Care 2", "Care 3"):
            db.session.scalar(sa.select(Organisation).filter_by(name=name)).sector = "government"
        db.session.commit()
        result = runner.invoke(args=["campaign", "norm-group", str(peers.campaign_id), "sector"])
        assert result.exit_code == 1
        assert "leaves out only 2 organisation(s) of a larger group" in result.output
        assert stored_norm_group(peers.campaign_id) is None


def test_norm_group_command_names_a_missing_campaign(runner, app, peers):
    with app.app_context():
        result = runner.invoke(args=["campaign", "norm-group", "999999", "sector"])
        assert result.exit_code == 1 and "No campaign with id 999999" in result.output


def campaign_create_args(name: str, *extra: str) -> list[str]:
    from .test_norm_groups import make_date

    return [
        "campaign", "create", "--org", "Acme", "--name", name,
        "--opens", str(make_date(30)), "--closes", str(make_date(60)), *extra,
    ]  # fmt: skip


def test_campaign_create_takes_a_norm_group(runner, app, peers):
    with app.app_context():
        result = invoke(runner, *campaign_create_args("Next year", "--norm-group", "size"))
        assert result.exit_code == 0, result.output
        assert "norm group size" in result.output
        created = db.session.scalar(sa.select(Campaign).filter_by(name="Next year"))
        assert created.norm_group == "size"
        assert audit_events()[-1][0] == "campaign_created"
        assert audit_events()[-1][2].endswith(", norm group size)")
        # Without the option: all organisations, as on the web form.
        plain = invoke(runner, *campaign_create_args("Later"))
        assert plain.exit_code == 0, plain.output
        assert db.session.scalar(sa.select(Campaign).filter_by(name="Later")).norm_group is None


@pytest.mark.parametrize(
    "group, message",
    [
        ("sector_size", "at least 5 are needed"),
        ("everyone", "'everyone' is not known"),
        ("", "Give a norm group"),
    ],
)
def test_campaign_create_with_a_refused_norm_group_creates_nothing(
    runner, app, peers, group, message
):
    with app.app_context():
        campaigns, events = count(Campaign), len(audit_events())
        result = runner.invoke(args=campaign_create_args("Too small", "--norm-group", group))
        assert result.exit_code == 1
        assert message in result.output
        db.session.expire_all()
        assert count(Campaign) == campaigns and len(audit_events()) == events
