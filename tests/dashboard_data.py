"""Organisations with known results for the dashboard, consultant, API and export tests.

``Acme`` (the factory's departments COM 12, HR 8, IT 20, IT-OPS 15 under IT) has a closed
campaign last year and one that closed now (results are released only once a campaign
has closed). Now: COM 9, HR 3 (below the threshold of 5, so
withheld, and COM with it so that HR cannot be worked out by subtraction), IT 10,
IT-OPS 11; top management scores higher than the rest. ``Beta`` has one closed campaign.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pytest

MANAGER = ("manager@acme.example", "manager-password-1")
OTHER_MANAGER = ("manager@beta.example", "manager-password-2")
CONSULTANT = ("consultant@example.org", "consultant-ledger-42")

CURRENT = {"COM": 9, "HR": 3, "IT": 10, "IT-OPS": 11}
PREVIOUS = {"COM": 8, "HR": 6, "IT": 9, "IT-OPS": 9}


@dataclass(frozen=True)
class Results:
    organisation_id: int
    campaign_id: int
    previous_id: int
    other_organisation_id: int
    other_campaign_id: int


@pytest.fixture
def fast_password_hashes(monkeypatch):
    """scrypt's deliberate slowness would dominate these tests."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "surveyapp.services.users.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def responses_csv(questionnaire, counts: dict[str, int], seed: int, lift: float = 0.0) -> str:
    """A response file: per department ``counts`` rows; IT-OPS and top management higher."""
    rng = np.random.default_rng(seed)
    items = questionnaire.items
    lines = ["department,role_level," + ",".join(item.id for item in items)]
    row = 0
    for department, n in counts.items():
        for _ in range(n):
            role = ("top_management", "middle_management", "employee", "employee")[row % 4]
            row += 1
            level = 2.6 + lift + (1.2 if department == "IT-OPS" else 0.0)
            level += 0.8 if role == "top_management" else 0.0
            person = rng.normal(level, 0.4)
            values = []
            for item in items:
                answer = int(np.clip(np.rint(person + rng.normal(0, 0.7)), 1, 5))
                values.append(str(6 - answer if item.reverse else answer))
            lines.append(f"{department},{role}," + ",".join(values))
    return "\n".join(lines) + "\n"


def build_results(make) -> Results:
    """Both organisations, their campaigns and answers, and the three accounts."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    questionnaire = make.questionnaire()
    today = dt.date.today()
    acme = make.organisation("Acme")
    previous = make.campaign(
        acme,
        name="Last year",
        opens_on=today - dt.timedelta(days=400),
        closes_on=today - dt.timedelta(days=370),
    )
    import_responses(previous, responses_csv(questionnaire, PREVIOUS, seed=1), "previous.csv")
    close_campaign(previous)
    current = make.campaign(acme, name="This year")
    import_responses(current, responses_csv(questionnaire, CURRENT, 2, lift=0.4), "now.csv")
    close_campaign(current)
    beta = make.organisation("Beta")
    other = make.campaign(beta, name="Beta survey")
    import_responses(
        other, responses_csv(questionnaire, {"COM": 6, "IT": 7}, seed=3, lift=-0.5), "beta.csv"
    )
    close_campaign(other)
    create_user(*MANAGER, "manager", acme)
    create_user(*OTHER_MANAGER, "manager", beta)
    create_user(*CONSULTANT, "consultant")
    make.commit()
    return Results(acme.id, current.id, previous.id, beta.id, other.id)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, account: tuple[str, str]) -> None:
    page = client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={
            "email": account[0],
            "password": account[1],
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture(autouse=True)
def fresh_report_cache():
    """Every test has a new database whose campaign ids repeat: start with an empty cache."""
    from surveyapp.services import reporting

    reporting._CACHE.clear()
    yield
    reporting._CACHE.clear()
