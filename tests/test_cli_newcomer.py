"""The command line as a newcomer meets it: found settings, one-line errors, usage errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, Department, Invitation

from .conftest import ROOT

SURVEYAPP = str(ROOT / ".venv" / "bin" / "surveyapp")
QUESTIONNAIRE = str(ROOT / "questionnaires" / "social-business-maturity-v1.toml")


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def run_surveyapp(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """The real entry point, with only the given SURVEYAPP_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    return subprocess.run(
        [SURVEYAPP, *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- configuration is found -------------------------------------------------------


@pytest.fixture
def no_surveyapp_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SURVEYAPP_"):
            monkeypatch.delenv(name)


def test_instance_env_file_supplies_unset_variables(no_surveyapp_env, tmp_path):
    from surveyapp.config import load_config

    (tmp_path / "surveyapp.env").write_text(
        "# made by make install\n\nSURVEYAPP_ENV=development\nSURVEYAPP_BASE_URL='http://h:1'\n"
    )
    config = load_config(str(tmp_path))
    assert config["ENV_NAME"] == "development"
    assert config["BASE_URL"] == "http://h:1"
    assert (tmp_path / "secret_key").exists(), "development generates its key"


def test_environment_wins_over_the_env_file(no_surveyapp_env, monkeypatch, tmp_path):
    from surveyapp.config import ConfigError, load_config

    (tmp_path / "surveyapp.env").write_text("SURVEYAPP_ENV=development\n")
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(str(tmp_path))


def test_a_wrong_env_file_line_is_named(no_surveyapp_env, tmp_path):
    from surveyapp.config import ConfigError, load_config

    (tmp_path / "surveyapp.env").write_text("SURVEYAPP_ENV=development\nDEBUG=1\n")
    with pytest.raises(ConfigError, match=r"surveyapp.env, line 2: expected SURVEYAPP_NAME=value"):
        load_config(str(tmp_path))


def test_make_install_writes_the_env_file_once(tmp_path):
    target = tmp_path / "instance" / "surveyapp.env"

    def make():
        return subprocess.run(
            [
                "make",
                "-s",
                "-f",
                str(ROOT / "Makefile"),
                "-C",
                str(tmp_path),
                "instance/surveyapp.env",
            ],
            capture_output=True,
            text=True,
            check=True,
        )

    make()
    assert "SURVEYAPP_ENV=development" in target.read_text().splitlines()
    target.write_text("SURVEYAPP_ENV=production\n")
    make()
    assert target.read_text() == "SURVEYAPP_ENV=production\n", "an edited file is kept"


def test_make_run_links_use_the_served_host_and_port():
    def dry_run(**env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
        return subprocess.run(
            ["make", "-n", "-C", str(ROOT), "demo", "serve", "PORT=8123"],
            capture_output=True,
            text=True,
            check=True,
            env={**clean, **env},
        ).stdout

    commands = dry_run()
    # The demo's links, the worker's e-mails and the server all use the served address.
    for command in ("surveyapp demo", "surveyapp worker", "surveyapp run"):
        line = next(line for line in commands.splitlines() if command in line)
        assert "SURVEYAPP_BASE_URL=http://127.0.0.1:8123 " in line, commands
    own = dry_run(SURVEYAPP_BASE_URL="https://survey.example.org")
    assert "SURVEYAPP_BASE_URL=http" not in own, "a base URL the user set is kept"


def test_a_bad_setting_is_one_line_and_exit_1():
    result = run_surveyapp("campaign", "list", env={"SURVEYAPP_ENV": "staging"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: SURVEYAPP_ENV is 'staging'; set it to 'production' or 'development'."
    ]


# --- analyze needs no app ---------------------------------------------------------


def test_analyze_imports_neither_the_app_nor_the_database():
    code = (
        "import sys\n"
        "from surveyapp.cli import main\n"
        "try:\n"
        "    main(['analyze', '--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "loaded = {'flask_sqlalchemy', 'sqlalchemy', 'scipy'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def _modules_after(code: str) -> set[str]:
    """The modules loaded by ``code`` in a fresh interpreter (which prints nothing else)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        env=clean,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


# Slow to import and not needed to analyse a file: the app's database layer, and the
# parts of SciPy the engine does without (scipy.stats alone took about two seconds).
NOT_FOR_ANALYZE = {
    "sqlalchemy",
    "flask_sqlalchemy",
    "alembic",
    "flask_migrate",
    "flask_babel",
    "surveyapp.extensions",
    "surveyapp.models",
    "scipy.stats",
    "scipy.optimize",
}


def test_analysing_a_file_loads_neither_the_database_layer_nor_scipy_stats(tmp_path):
    from surveyapp.questionnaires import load_questionnaire

    ids = [item.id for item in load_questionnaire(QUESTIONNAIRE).items]
    rows = [",".join(["department", *ids])]
    rows += [
        ",".join([f"D{r % 2}", *(str(1 + (r + i) % 5) for i in range(len(ids)))]) for r in range(12)
    ]
    answers = tmp_path / "answers.csv"
    answers.write_text("\n".join(rows) + "\n")
    out = tmp_path / "result.json"
    loaded = _modules_after(
        "from surveyapp.cli import main\n"
        "try:\n"
        f"    main(['analyze', '--questionnaire', {QUESTIONNAIRE!r}, '--responses',"
        f" {str(answers)!r}, '--out', {str(out)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
    )
    assert '"dimensions"' in out.read_text(), "the analysis ran"
    assert not NOT_FOR_ANALYZE & loaded, NOT_FOR_ANALYZE & loaded


def test_the_file_analysis_service_is_free_of_flask_and_the_database():
    loaded = _modules_after("import surveyapp.services.analysis_files")
    web = {"flask", "werkzeug"}  # the text checks the CSV reader uses need neither
    assert not (NOT_FOR_ANALYZE | web) & loaded, (NOT_FOR_ANALYZE | web) & loaded


def test_analyze_runs_without_secret_key_or_database(no_surveyapp_env, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from surveyapp.cli import main
    from surveyapp.questionnaires import load_questionnaire

    # Production without a key: building the app would stop with exit 1.
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", "postgresql://nowhere.invalid/x")
    ids = [item.id for item in load_questionnaire(QUESTIONNAIRE).items]
    rows = [",".join(["department", "role_level", *ids])]
    for r in range(12):
        rows.append(
            ",".join([f"D{r % 2}", "employee", *(str(1 + (r + i) % 5) for i in range(len(ids)))])
        )
    answers = tmp_path / "answers.csv"
    answers.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(
        main, ["analyze", "--questionnaire", QUESTIONNAIRE, "--responses", str(answers)]
    )
    assert result.exit_code == 0, result.output
    assert '"dimensions"' in result.output


# --- links on SURVEYAPP_BASE_URL --------------------------------------------------


def test_invitation_links_use_the_configured_base_url(app, runner, ctx, factory, tmp_path):
    campaign = factory.campaign()
    app.config["BASE_URL"] = "https://survey.example.org/"
    out = tmp_path / "links.csv"
    result = invoke(
        runner,
        "invitations",
        "issue",
        "--campaign",
        str(campaign.id),
        "--per-department",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        links = [row["link"] for row in csv.DictReader(handle)]
    assert links and all(link.startswith("https://survey.example.org/s/") for link in links)


def test_production_refuses_invitations_without_a_base_url(app, runner, ctx, factory, tmp_path):
    campaign = factory.campaign()
    app.config.update(ENV_NAME="production", BASE_URL=None)
    out = tmp_path / "links.csv"
    result = invoke(
        runner,
        "invitations",
        "issue",
        "--campaign",
        str(campaign.id),
        "--per-department",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 2
    assert "Give --base-url" in result.output and "SURVEYAPP_BASE_URL" in result.output
    assert not out.exists() and count(Invitation) == 0


def test_demo_prints_links_on_the_base_url(app, runner, monkeypatch):
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "surveyapp.services.users.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )
    app.config["BASE_URL"] = "http://127.0.0.1:8123"
    result = invoke(runner, "demo", "--scale", "0.02")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/s/" in result.output
    assert "http://127.0.0.1:8123/auth/login" in result.output
    assert ":5000" not in result.output


# --- listing organisations and campaigns -----------------------------------------


def test_org_list_and_campaign_list_are_tab_separated(runner, ctx, factory):
    acme = factory.organisation("Acme")
    other = factory.organisation("Other")
    first = factory.campaign(acme, status="closed", name="Autumn")
    factory.campaign(other, status="draft", name="Spring")

    result = invoke(runner, "org", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "id\tname\tsector\tsize_band\tdepartments\tcampaigns"
    assert lines[1] == f"{acme.id}\tAcme\tgovernment\t250-999\t4\t1"

    result = invoke(runner, "campaign", "list", "--org", "Acme")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "id\torganisation\tname\tstatus\topens\tcloses\tquestionnaire\tnorm_group",
        f"{first.id}\tAcme\tAutumn\tclosed\t{first.opens_on}\t{first.closes_on}"
        "\tsocial-business-maturity v1\tall",
    ]
    assert len(invoke(runner, "campaign", "list").output.splitlines()) == 3
    missing = invoke(runner, "campaign", "list", "--org", "Nobody")
    assert missing.exit_code == 1 and "No organisation" in missing.output


# --- invalid option values are usage errors --------------------------------------

CREATE = ("campaign", "create", "--org", "Acme", "--name", "Spring")
DATES = ("--opens", "2027-03-01", "--closes", "2027-03-31")


@pytest.mark.parametrize(
    "options, named",
    [
        (("--threshold", "0"), "--threshold"),
        (("--threshold", "2"), "--threshold"),
        (("--threshold", "5", "--comment-threshold", "4"), "--comment-threshold"),
        (("--retention-months", "0"), "--retention-months"),
        (("--retention-months", "121"), "--retention-months"),
        (("--max-reminders", "6"), "--max-reminders"),
        (("--results-on", "next spring"), "--results-on"),
    ],
)
def test_campaign_create_rejects_bad_values_as_usage_errors(runner, ctx, factory, options, named):
    factory.organisation("Acme")
    result = invoke(runner, *CREATE, *DATES, *options)
    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.output and named in result.output
    assert "Traceback" not in result.output
    assert count(Campaign) == 0


def test_a_bad_date_is_a_usage_error(runner, ctx, factory):
    factory.organisation("Acme")
    result = invoke(runner, *CREATE, "--opens", "2027-02-30", "--closes", "2027-03-31")
    assert result.exit_code == 2
    assert "'2027-02-30' is not a date written as YYYY-MM-DD" in result.output


def test_per_department_zero_is_a_usage_error(runner, ctx, factory, tmp_path):
    campaign = factory.campaign()
    out = tmp_path / "links.csv"
    result = invoke(
        runner,
        "invitations",
        "issue",
        "--campaign",
        str(campaign.id),
        "--per-department",
        "0",
        "--out",
        str(out),
    )
    assert result.exit_code == 2 and "--per-department" in result.output
    assert not out.exists()


def test_campaign_create_stores_the_privacy_settings(runner, ctx, factory):
    factory.organisation("Acme")
    result = invoke(
        runner,
        *CREATE,
        *DATES,
        "--threshold",
        "12",
        "--controller",
        "Acme HR",
        "--contact",
        "privacy@acme.example",
        "--retention-months",
        "24",
        "--results-on",
        "2027-04-15",
        "--max-reminders",
        "1",
    )
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(sa.select(Campaign))
    assert (campaign.min_group_size, campaign.min_comment_group_size) == (12, 12)
    assert campaign.controller == "Acme HR"
    assert campaign.controller_contact == "privacy@acme.example"
    assert campaign.retention_months == 24
    assert str(campaign.results_on) == "2027-04-15"
    assert campaign.max_reminders == 1


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"controller_contact": "call Anna"}, "neither an e-mail address nor a web address"),
        ({"controller": "HR\x07"}, "data controller"),
        ({"results_on": "2027-03-30"}, "must not come before the closing date"),
        ({"retention_months": 200}, "from 1 to 120 months"),
        ({"max_reminders": -1}, "from 0 to 5"),
    ],
)
def test_create_campaign_checks_privacy_settings(ctx, factory, settings, message):
    import datetime as dt

    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import create_campaign

    if "results_on" in settings:
        settings["results_on"] = dt.date.fromisoformat(settings["results_on"])
    with pytest.raises(ServiceError, match=message):
        create_campaign(
            factory.organisation(),
            factory.questionnaire(),
            "Spring",
            dt.date(2027, 3, 1),
            dt.date(2027, 3, 31),
            **settings,
        )


# --- departments are frozen while a campaign is open ------------------------------


def test_departments_cannot_change_while_a_campaign_is_open(runner, ctx, factory, tmp_path):
    organisation = factory.organisation("Acme")
    factory.campaign(organisation, status="draft", name="Later")
    deps = tmp_path / "deps.csv"
    deps.write_text("code,name,parent_code,headcount\nSALES,Sales,,9\n")
    assert invoke(runner, "departments", "import", "--org", "Acme", str(deps)).exit_code == 0

    running = factory.campaign(organisation, name="Spring survey")
    deps.write_text("code,name,parent_code,headcount\nLEGAL,Legal,,3\n")
    result = invoke(runner, "departments", "import", "--org", "Acme", str(deps))
    assert result.exit_code == 1
    assert f"Campaign {running.id} (Spring survey) of Acme is open" in result.output
    assert "after it closes" in result.output
    assert db.session.scalar(sa.select(Department).filter_by(code="LEGAL")) is None
