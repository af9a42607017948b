"""Every route of the app, every method, as every kind of visitor: who gets in, who does not.

``RULES`` declares who may use each endpoint. The walk requests every rule of
``app.url_map`` as each principal and checks the outcome against the declaration:
granted (the view ran: 200, a redirect elsewhere, a form error, a 409) or refused (a
redirect to sign-in, 401, 403 or 404); never a 500, and never a page that names the
other organisation. A route without a declaration fails the first test: add it to
``RULES`` with the rule its code enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from .dashboard_data import (
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    responses_csv,
)

# Who may use an endpoint: a function of the principal and of ``owner``, the organisation
# ("a" or "b") whose objects the address names (None when it names none). True is granted,
# False refused, None either (the page decides, as a sign-in form or a 404 does).
PRINCIPALS = ("anonymous", "respondent", "manager_a", "manager_b", "consultant", "token_a")
SIGNED_IN = {"manager_a", "manager_b", "consultant"}


ACCESS = {
    "public": lambda principal, owner: None,
    # Only with a valid survey link in the address; nobody else has one.
    "respondent": lambda principal, owner: principal == "respondent",
    # A manager or consultant signed in with the browser; an API token is not a session.
    "signed_in": lambda principal, owner: principal in SIGNED_IN,
    # A consultant, or a manager of the organisation the address names.
    "own_organisation": lambda principal, owner: principal in ("consultant", f"manager_{owner}"),
    "consultant": lambda principal, owner: principal == "consultant",
    # Consultants only, on an object the walk does not own (a 404 for them here): an
    # account to disable, which would end the walk's own sessions. tests/test_people.py
    # uses it for real.
    "consultant_object": lambda principal, owner: None if principal == "consultant" else False,
    # The JSON API: a signed-in session or a token, seeing what its user sees.
    "api": lambda principal, owner: principal in SIGNED_IN | {"token_a"},
    "api_own_organisation": lambda principal, owner: (
        principal in ("consultant", f"manager_{owner}", f"token_{owner}")
    ),
}

RULES = {
    "static": "public",
    "admin.index": "public",
    "admin.home": "signed_in",
    # Survey
    "survey.start": "respondent",
    "survey.step": "respondent",
    "survey.done": "public",
    "survey.switch_language": "respondent",
    "survey.favicon": "public",
    # Sign-in and accounts
    "auth.login": "public",
    "auth.logout": "public",
    "auth.set_language": "public",
    "auth.two_step": "public",  # only after a correct password (a pending sign-in)
    "auth.reset_request": "public",
    "auth.reset_sent": "public",
    "auth.reset": "public",  # only with a valid reset link
    "auth.account": "signed_in",
    "auth.two_step_setup": "signed_in",
    "auth.two_step_off": "signed_in",
    # Results of one organisation
    "dashboard.organisation": "own_organisation",
    "dashboard.campaign": "own_organisation",
    "dashboard.dimension": "own_organisation",
    "dashboard.department": "own_organisation",
    "dashboard.report_pdf": "own_organisation",
    "dashboard.results_csv_download": "own_organisation",
    # Staff comments: managers read the released ones; consultants review and hide.
    "comments.comments": "own_organisation",
    "comment_review.review": "consultant",
    "comment_review.hide": "consultant",
    # Action plans: read by whoever sees the results; changed by consultants and managers
    # of the whole organisation (department heads read only: tests/test_action_plans.py).
    "action_plans.plan": "own_organisation",
    "action_plans.focus": "own_organisation",
    "action_plans.new_action": "own_organisation",
    "action_plans.edit_action": "own_organisation",
    "action_plans.remove_action": "own_organisation",
    # Individual answers: consultants only, whichever organisation.
    "dashboard.responses_csv_download": "consultant",
    "dashboard.responses_xlsx_download": "consultant",
    "dashboard.responses_sav_download": "consultant",
    "dashboard.codebook_csv_download": "consultant",
    "dashboard.answer_files": "consultant",
    "dashboard.api_tokens": "signed_in",
    # Consultants
    "consultant.organisations": "consultant",
    "consultant.compare": "consultant",
    "consultant.compare_pdf": "consultant",
    "consultant.norms": "consultant",
    "consultant.audit_log": "consultant",
    # Client set-up in the browser: consultants only.
    "setup.index": "consultant",
    "setup.people": "consultant",
    "setup.disable_manager": "consultant_object",
    "setup.manager_scope": "consultant_object",
    "setup.new_organisation": "consultant",
    "setup.organisation": "consultant",
    "setup.edit_organisation": "consultant",
    "setup.upload_departments": "consultant",
    "setup.confirm_departments": "consultant",
    "setup.edit_department": "consultant",
    "setup.new_campaign": "consultant",
    "setup.edit_campaign": "consultant",
    "setup.campaign": "consultant",
    "setup.open_campaign_page": "consultant",
    "setup.extend": "consultant",
    "setup.close": "consultant",
    "setup.norm_group": "consultant",
    # E-mail invitations, reminders and live participation: consultants only.
    "mail_pages.overview": "consultant",
    "mail_pages.add_addresses": "consultant",
    "mail_pages.invitations": "consultant",
    "mail_pages.check_invitations": "consultant",
    "mail_pages.reminders": "consultant",
    "mail_pages.participation": "consultant",
    # Paper slips: anyone types a slip's code; consultants print the slips.
    "slips.enter_code": "public",
    "slips.print_slips": "consultant",
    # Consultants only, and only in development: 404 for everyone here, where mail is not
    # written to an outbox (the consultant-only check: tests/test_mailings.py).
    "outbox.outbox": "public",
    # API
    "api.index": "public",
    "api.openapi": "public",
    "api.not_found": "public",  # a JSON 404 or 405 for every other address under /api/v1
    "api.campaigns": "api",
    "api.organisations": "api",
    "api.campaign_results": "api_own_organisation",
    "api.campaign_participation": "api_own_organisation",
    "api.campaign_comments": "api_own_organisation",
    "api.campaign_action_plan": "api_own_organisation",
}

# URL arguments that name an organisation's objects: such rules are walked once with
# organisation A's objects and once with B's.
OWNED_ARGUMENTS = {"campaign_id", "organisation_id", "code"}
# Per endpoint: arguments other than the defaults of ``World.arguments``, and a query string.
ARGUMENT_OVERRIDES = {
    "api.campaign_participation": {"campaign_id": "open_campaign_id"},
    "auth.reset": {"token": "reset_token"},
    # No such action: the pages send the reader back to the plan with a message.
    "action_plans.edit_action": {"action_id": "user_id"},
    "action_plans.remove_action": {"action_id": "user_id"},
}
QUERY = {
    "consultant.compare": lambda world: world.both_organisations,
    "consultant.compare_pdf": lambda world: world.both_organisations,
}
UNKNOWN_LINK = "x" * 43  # the shape of a survey link, but no invitation has it

ACCOUNTS = {
    "manager_a": ("manager@alpha.example", "lantern-quarry-velvet-41"),
    "manager_b": ("manager@bravo.example", "orchid-tundra-pixel-86"),
    "consultant": ("consultant@matrix.example", "copper-meadow-zephyr-59"),
}
# Names that appear on a page only if it shows that organisation: a page for A (or for
# nobody) must not contain B's, and the other way round.
ORGANISATION_WORDS = {"a": "Alpha", "b": "Bravo"}


@dataclass(frozen=True)
class OrganisationIds:
    """An organisation of the walk: its id and its campaigns'."""

    id: int
    closed_campaign_id: int
    open_campaign_id: int


@dataclass(frozen=True)
class World:
    """The objects the walk's addresses are built from."""

    a: OrganisationIds
    b: OrganisationIds
    link: str
    token: str
    dimension_id: str
    department_code: str

    @property
    def both_organisations(self) -> str:
        return f"organisation={self.a.id}&organisation={self.b.id}"

    def organisation(self, owner: str) -> OrganisationIds:
        return self.a if owner == "a" else self.b

    def arguments(self, principal: str, owner: str | None) -> dict[str, object]:
        organisation = self.organisation(owner or "a")
        return {
            "campaign_id": organisation.closed_campaign_id,
            "open_campaign_id": organisation.open_campaign_id,
            "organisation_id": organisation.id,
            "code": self.department_code,
            "dimension_id": self.dimension_id,
            # Only the respondent has a link; everyone else tries one that does not exist.
            "token": self.link if principal == "respondent" else UNKNOWN_LINK,
            "step": "language",
            "reset_token": UNKNOWN_LINK,
            "user_id": 2**31 - 2,  # no such account
            "lang": "nl",
            "filename": "app.css",
            "anything": "no-such-endpoint",
        }


def _organisation(make, name: str, seed: int):
    """An organisation with a closed campaign with answers and an open one (returned too)."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses

    organisation = make.organisation(name)
    closed = make.campaign(organisation, name=f"{name} closed survey")
    counts = {"COM": 10, "HR": 8, "IT": 12, "IT-OPS": 9}
    import_responses(closed, responses_csv(make.questionnaire(), counts, seed), "answers.csv")
    close_campaign(closed)
    opened = make.campaign(organisation, name=f"{name} open survey")
    return opened, OrganisationIds(organisation.id, closed.id, opened.id)


@pytest.fixture
def world(app, in_app, fast_password_hashes, monkeypatch) -> World:  # noqa: F811
    """Two organisations with a closed and an open campaign each, their accounts, a survey
    link of A's open campaign and an API token of A's manager."""
    from surveyapp.extensions import db
    from surveyapp.models import Organisation
    from surveyapp.services.tokens import issue_token
    from surveyapp.services.users import create_user

    # The walk asks who gets in; a form's CSRF check would refuse everyone's empty POST
    # before the access check it is meant to reach (the CSRF tests are elsewhere).
    app.config["WTF_CSRF_ENABLED"] = False
    # Access is decided before the PDF is drawn; WeasyPrint's seconds would only slow the walk.
    monkeypatch.setattr("surveyapp.pdf.create_pdf", lambda view, **kwargs: b"%PDF-1.7 stub")
    monkeypatch.setattr("surveyapp.pdf.write_pdf", lambda html: b"%PDF-1.7 stub")
    with in_app() as make:
        open_a, a = _organisation(make, "Alpha Matrix Org", seed=11)
        _open_b, b = _organisation(make, "Bravo Matrix Org", seed=12)
        link = make.link(open_a, "IT")
        manager_a = create_user(
            *ACCOUNTS["manager_a"], "manager", db.session.get(Organisation, a.id)
        )
        create_user(*ACCOUNTS["manager_b"], "manager", db.session.get(Organisation, b.id))
        create_user(*ACCOUNTS["consultant"], "consultant")
        _row, token = issue_token(manager_a, "route matrix")
        make.commit()
        dimension_id = make.questionnaire().dimensions[0].id
    return World(a, b, link, token, dimension_id, "IT")


@dataclass(frozen=True)
class Call:
    """One request of the walk."""

    endpoint: str
    method: str
    url: str
    owner: str | None

    @property
    def rule(self) -> str:
        return RULES[self.endpoint]


def calls_for(app, world: World, principal: str) -> list[Call]:
    """Every rule and method of the app, with arguments from ``world`` for ``principal``."""
    calls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        owners = ("a", "b") if rule.arguments & OWNED_ARGUMENTS else (None,)
        overrides = ARGUMENT_OVERRIDES.get(rule.endpoint, {})
        for owner in owners:
            values = world.arguments(principal, owner)
            missing = sorted(a for a in rule.arguments if overrides.get(a, a) not in values)
            assert not missing, (
                f"{rule.rule} ({rule.endpoint}) has arguments {missing} that the matrix cannot "
                "fill: add a value to World.arguments or ARGUMENT_OVERRIDES."
            )
            built = rule.build({a: values[overrides.get(a, a)] for a in rule.arguments})
            assert built is not None, f"could not build {rule.rule} ({rule.endpoint})"
            url = built[1]
            if rule.endpoint in QUERY:
                url += "?" + QUERY[rule.endpoint](world)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                calls.append(Call(rule.endpoint, method, url, owner))
    return calls


class Visitor:
    """One principal: each request comes from a new client that carries the principal's
    cookie, so nothing one request does to its session reaches the next.

    A signed-in principal signs in once, and again after any request other than GET: a
    POST may end the session (signing out ends every session of the user).
    """

    def __init__(self, app, world: World, principal: str):
        self.app, self.world, self.principal = app, world, principal
        self.cookie: str | None = None
        self.headers = {"Authorization": f"Bearer {world.token}"} if principal == "token_a" else {}

    def _sign_in(self) -> str | None:
        client = self.app.test_client()
        if self.principal in ACCOUNTS:
            email, password = ACCOUNTS[self.principal]
            response = client.post("/auth/login", data={"email": email, "password": password})
            assert response.status_code == 302, f"{self.principal} could not sign in"
            assert urlsplit(response.headers["Location"]).path != "/auth/login"
        elif self.principal == "respondent":
            response = client.get(f"/s/{self.world.link}")
            assert response.status_code == 200, "the survey link does not work"
        cookie = client.get_cookie("session")
        return cookie.value if cookie is not None else None

    def open(self, call: Call):
        if self.cookie is None:
            self.cookie = self._sign_in()
        client = self.app.test_client()
        if self.cookie is not None:
            client.set_cookie("session", self.cookie)
        if call.method != "GET":
            self.cookie = None
        return client.open(call.url, method=call.method, headers=self.headers)


REDIRECTS = {301, 302, 303, 307, 308}


def outcome(response) -> str:
    """What became of a request: "granted" (the view ran), "refused" or "error"."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status in (401, 403, 404):
        return "refused"
    if status in REDIRECTS and urlsplit(response.headers["Location"]).path == "/auth/login":
        return "refused"
    return "granted"


def leaked_words(principal: str, body: str) -> list[str]:
    """Names of an organisation this principal should not see, found in ``body``."""
    if principal == "consultant":
        return []
    allowed = {
        "anonymous": set(),
        "respondent": {"a"},
        "manager_a": {"a"},
        "token_a": {"a"},
        "manager_b": {"b"},
    }[principal]
    return [
        word
        for key, word in ORGANISATION_WORDS.items()
        if key not in allowed and re.search(rf"\b{word}\b", body)
    ]


def test_every_route_has_a_declared_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = {
        rule.endpoint: f"{rule.rule} {sorted(rule.methods - {'HEAD', 'OPTIONS'})}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in RULES
    }
    assert not undeclared, (
        "Routes without an access rule; declare each in RULES of tests/test_route_matrix.py "
        f"with the rule its code enforces ({', '.join(ACCESS)}): {undeclared}"
    )
    stale = sorted(RULES.keys() - endpoints)
    assert not stale, f"RULES declares endpoints the app no longer has: {stale}"
    unknown = {endpoint: rule for endpoint, rule in RULES.items() if rule not in ACCESS}
    assert not unknown, f"RULES uses rules ACCESS does not define: {unknown}"


def test_every_principal_gets_exactly_what_the_rules_allow(app, world):
    problems = []
    for principal in PRINCIPALS:
        visitor = Visitor(app, world, principal)
        for call in calls_for(app, world, principal):
            if call.endpoint not in RULES:
                continue  # reported by test_every_route_has_a_declared_rule
            response = visitor.open(call)
            got = outcome(response)
            expected = ACCESS[call.rule](principal, call.owner)
            where = f"{principal} {call.method} {call.url} ({call.endpoint}, {call.rule})"
            if got == "error":
                problems.append(f"{where}: {response.status_code}")
            elif expected is not None and got != ("granted" if expected else "refused"):
                location = response.headers.get("Location", "")
                problems.append(
                    f"{where}: {'granted' if expected else 'refused'} expected, got "
                    f"{response.status_code} {location}".rstrip()
                )
            try:
                body = response.get_data().decode("utf-8", "replace")
            except Exception as error:  # noqa: BLE001 - a streamed body fails only when read
                problems.append(f"{where}: reading the answer raised {error!r}"[:300])
                continue
            finally:
                response.close()
            leaks = leaked_words(principal, body)
            if leaks:
                problems.append(f"{where}: the answer names {leaks}")
    assert not problems, "\n".join(["Access not as RULES declares:", *problems])
