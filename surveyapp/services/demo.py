"""Synthetic demo data: organisations, campaigns, answers, accounts and links to try.

The answers come from a small latent-variable model so that every part of the reports has
something to show: organisations that differ (benchmarks), departments that differ, a top
that sees things rosier than the shop floor (perception gap), a department split into two
camps (low within-group agreement), departments too small to be shown (suppression), an
organisation measured twice a year apart (change), "don't know" answers and skipped items.

Like every service this adds and flushes but never commits; ``surveyapp demo`` commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from flask import current_app

from ..config import DEVELOPMENT_BASE_URL
from ..extensions import db
from ..models import (
    Answer,
    Campaign,
    Department,
    Invitation,
    Organisation,
    Response,
    User,
    today,
)
from ..questionnaires import Questionnaire
from . import ServiceError
from .campaigns import close_campaign, create_campaign, open_campaign
from .csvfiles import write_csv
from .invitations import hash_token
from .matrix import pack_matrix
from .organisations import DEPARTMENT_COLUMNS, create_organisation, import_departments
from .questionnaires import latest_questionnaire
from .users import create_user

QUESTIONNAIRE_ID = "social-business-maturity"
BASE_URL = DEVELOPMENT_BASE_URL
CONSULTANT_EMAIL = "consultant@demo.example"
CONSULTANT_PASSWORD = "demo-consultant-2026"
MANAGER_EMAIL = "manager@demo.example"
MANAGER_PASSWORD = "demo-manager-2026"
#: Survey links printed for the open campaign, one per department in DEMO_LINK_DEPARTMENTS.
DEMO_LINKS = 5
MAX_SCALE = 20.0

# --------------------------------------------------------------------------- the organisations

# A department template row: code, name, parent code, weight, kind. The weights share out
# the organisation's headcount (people directly in the department). Kinds: "board" (top
# management sits here), "conversation" (the team that speaks for the organisation),
# "small" (a fixed headcount below the anonymity threshold, so suppression shows),
# "staff" (everyone else).
_Row = tuple[str, str, str | None, float, str]

GOVERNMENT: tuple[_Row, ...] = (
    ("BRD", "Executive board", None, 8, "board"),
    ("COM", "Communication", None, 14, "staff"),
    ("COM-WEB", "Webcare team", "COM", 8, "conversation"),
    ("CIV", "Civic services", None, 40, "staff"),
    ("CIV-KCC", "Customer contact centre", "CIV", 90, "staff"),
    ("SPA", "Spatial planning", None, 35, "staff"),
    ("SPA-PER", "Permits", "SPA", 70, "staff"),
    ("SOC", "Social services", None, 40, "staff"),
    ("SOC-YOU", "Youth and families", "SOC", 75, "staff"),
    ("SOC-CAR", "Care and support", "SOC", 85, "staff"),
    ("OPS", "Operations", None, 25, "staff"),
    ("OPS-ICT", "ICT", "OPS", 55, "staff"),
    ("OPS-HR", "Human resources", "OPS", 35, "staff"),
    ("OPS-FIN", "Finance", "OPS", 40, "staff"),
    ("LEG", "Legal affairs", None, 4, "small"),
)
HOSPITAL: tuple[_Row, ...] = (
    ("BRD", "Board of directors", None, 8, "board"),
    ("COM", "Communication", None, 10, "staff"),
    ("COM-PAT", "Patient contact team", "COM", 7, "conversation"),
    ("MED", "Medical staff", None, 30, "staff"),
    ("MED-SUR", "Surgery", "MED", 110, "staff"),
    ("MED-INT", "Internal medicine", "MED", 120, "staff"),
    ("MED-EMR", "Emergency department", "MED", 80, "staff"),
    ("NUR", "Nursing", None, 30, "staff"),
    ("NUR-WRD", "Wards", "NUR", 260, "staff"),
    ("NUR-OUT", "Outpatient clinics", "NUR", 140, "staff"),
    ("SUP", "Support services", None, 20, "staff"),
    ("SUP-ICT", "ICT", "SUP", 50, "staff"),
    ("SUP-HR", "Human resources", "SUP", 35, "staff"),
    ("SUP-FAC", "Facilities", "SUP", 70, "staff"),
    ("QUA", "Quality and patient safety", None, 3, "small"),
)
CARE_GROUP: tuple[_Row, ...] = (
    ("BRD", "Management team", None, 5, "board"),
    ("HOM", "Home care", None, 20, "staff"),
    ("HOM-N", "Home care north", "HOM", 110, "staff"),
    ("HOM-S", "Home care south", "HOM", 95, "staff"),
    ("RES", "Residential care", None, 15, "staff"),
    ("RES-LIN", "De Linde residence", "RES", 120, "staff"),
    ("RES-EIK", "De Eik residence", "RES", 100, "staff"),
    ("OFF", "Central office", None, 30, "staff"),
    ("OFF-COM", "Communication and client contact", "OFF", 6, "conversation"),
    ("OFF-PLN", "Planning", "OFF", 4, "small"),
)
GP_PRACTICE: tuple[_Row, ...] = (
    ("MGT", "Practice management", None, 3, "board"),
    ("GPS", "General practitioners", None, 8, "staff"),
    ("AST", "Practice assistants", None, 12, "staff"),
    ("NUR", "Practice nurses", None, 7, "staff"),
    ("REC", "Reception and telephone", None, 4, "small"),
)
RETAIL: tuple[_Row, ...] = (
    ("BRD", "Board", None, 6, "board"),
    ("MKT", "Marketing", None, 25, "staff"),
    ("MKT-SOC", "Social media team", "MKT", 8, "conversation"),
    ("STO", "Stores", None, 30, "staff"),
    ("STO-N", "Stores north", "STO", 420, "staff"),
    ("STO-S", "Stores south", "STO", 380, "staff"),
    ("ONL", "Online shop", None, 45, "staff"),
    ("CS", "Customer service", None, 60, "staff"),
    ("LOG", "Logistics", None, 20, "staff"),
    ("LOG-WH", "Warehouse", "LOG", 160, "staff"),
    ("HQ", "Head office", None, 15, "staff"),
    ("HQ-FIN", "Finance", "HQ", 30, "staff"),
    ("HQ-HR", "Human resources", "HQ", 22, "staff"),
    ("HQ-LEG", "Legal", "HQ", 3, "small"),
)
BAKERY: tuple[_Row, ...] = (
    ("MGT", "Management", None, 4, "board"),
    ("BAK", "Bakery", None, 45, "staff"),
    ("SHP", "Shops", None, 10, "staff"),
    ("SHP-1", "Shop Market Square", "SHP", 28, "staff"),
    ("SHP-2", "Shop Station", "SHP", 24, "staff"),
    ("SHP-3", "Shop Harbour", "SHP", 22, "staff"),
    ("DEL", "Delivery", None, 14, "staff"),
    ("OFF", "Office", None, 4, "small"),
)
BANK: tuple[_Row, ...] = (
    ("BRD", "Executive board", None, 8, "board"),
    ("COM", "Communication", None, 20, "staff"),
    ("COM-WEB", "Webcare team", "COM", 12, "conversation"),
    ("RET", "Retail banking", None, 40, "staff"),
    ("RET-BR", "Branches", "RET", 300, "staff"),
    ("RET-CC", "Contact centre", "RET", 180, "staff"),
    ("BUS", "Business banking", None, 140, "staff"),
    ("RSK", "Risk and compliance", None, 90, "staff"),
    ("RSK-AUD", "Internal audit", "RSK", 4, "small"),
    ("OPS", "Operations", None, 60, "staff"),
    ("OPS-IT", "IT", "OPS", 170, "staff"),
    ("HR", "Human resources", None, 40, "staff"),
)
INSURER: tuple[_Row, ...] = (
    ("BRD", "Board", None, 5, "board"),
    ("SAL", "Sales", None, 30, "staff"),
    ("SAL-ADV", "Advisers", "SAL", 80, "staff"),
    ("CLM", "Claims", None, 120, "staff"),
    ("SRV", "Customer service", None, 70, "staff"),
    ("SRV-WEB", "Online service team", "SRV", 9, "conversation"),
    ("ACT", "Actuarial", None, 35, "staff"),
    ("IT", "IT", None, 60, "staff"),
    ("HR", "Human resources", None, 3, "small"),
)
FINTECH: tuple[_Row, ...] = (
    ("MGT", "Founders and management", None, 6, "board"),
    ("ENG", "Engineering", None, 45, "staff"),
    ("PRD", "Product", None, 15, "staff"),
    ("CUS", "Customer success", None, 20, "staff"),
    ("CUS-COM", "Community team", "CUS", 6, "conversation"),
    ("OPS", "Operations and compliance", None, 4, "small"),
)
UNIVERSITY: tuple[_Row, ...] = (
    ("BRD", "Executive board", None, 8, "board"),
    ("COM", "Communication and marketing", None, 25, "staff"),
    ("COM-STU", "Student contact team", "COM", 10, "conversation"),
    ("BUS", "School of Business", None, 180, "staff"),
    ("HEA", "School of Health", None, 160, "staff"),
    ("TEC", "School of Technology", None, 200, "staff"),
    ("TEC-LAB", "Technology labs", "TEC", 40, "staff"),
    ("EDU", "School of Education", None, 140, "staff"),
    ("SRV", "Services", None, 20, "staff"),
    ("SRV-ICT", "ICT", "SRV", 70, "staff"),
    ("SRV-HR", "Human resources", "SRV", 40, "staff"),
    ("SRV-STU", "Student administration", "SRV", 60, "staff"),
    ("SRV-LIB", "Library", "SRV", 4, "small"),
)
SCHOOL_GROUP: tuple[_Row, ...] = (
    ("BRD", "Board", None, 4, "board"),
    ("OFF", "Central office", None, 30, "staff"),
    ("OFF-COM", "Communication and parent contact", "OFF", 5, "conversation"),
    ("PRI", "Primary schools", None, 10, "staff"),
    ("PRI-N", "Primary school North", "PRI", 65, "staff"),
    ("PRI-S", "Primary school South", "PRI", 60, "staff"),
    ("SEC", "Secondary schools", None, 10, "staff"),
    ("SEC-A", "Athenaeum", "SEC", 140, "staff"),
    ("SEC-V", "Vocational college", "SEC", 120, "staff"),
    ("SEC-CAR", "Student care", "SEC", 4, "small"),
)


@dataclass(frozen=True, slots=True)
class _Wave:
    """A campaign of the demo: when it opened (days before today) and for how long."""

    opens_days_ago: int
    weeks: int
    improvement: float = 0.0  # latent gain on about half the dimensions since the last wave
    open: bool = False
    share: float = 1.0  # share of the eventual respondents already in (an open campaign)


@dataclass(frozen=True, slots=True)
class _OrgSpec:
    name: str
    sector: str
    size_band: str
    template: tuple[_Row, ...]
    staff: int  # headcount shared out over the template's weights
    maturity: float  # latent mean: 0 is the middle of the scale, ±1 about one scale point
    gap: float  # how much rosier top management sees it than employees (latent)
    response_rate: float
    waves: tuple[_Wave, ...]
    split: tuple[str, ...] = ()  # departments whose staff fall into two camps


# The first organisation is the friendly one with the open campaign; its name also marks
# a database the demo has been loaded into. Two campaigns of the same organisation open
# 364 days (52 weeks) apart, so they fall on the same weekday a year later.
ORGANISATIONS: tuple[_OrgSpec, ...] = (
    _OrgSpec(
        name="Demohaven City Council",
        sector="government",
        size_band="1000+",
        template=GOVERNMENT,
        staff=1500,
        maturity=0.15,
        gap=0.6,
        response_rate=0.62,
        waves=(_Wave(373, 4), _Wave(9, 5, improvement=0.3, open=True, share=0.3)),
        split=("CIV-KCC",),
    ),
    _OrgSpec(
        name="Noordkust Province",
        sector="government",
        size_band="1000+",
        template=GOVERNMENT,
        staff=2500,
        maturity=-0.45,
        gap=0.8,
        response_rate=0.55,
        waves=(_Wave(430, 4), _Wave(66, 4, improvement=0.45)),
    ),
    _OrgSpec(
        name="Lage Landen Water Board",
        sector="government",
        size_band="250-999",
        template=GOVERNMENT,
        staff=620,
        maturity=-0.75,
        gap=0.5,
        response_rate=0.6,
        waves=(_Wave(250, 3),),
    ),
    _OrgSpec(
        name="St Aldegonde Hospital",
        sector="healthcare",
        size_band="1000+",
        template=HOSPITAL,
        staff=6000,
        maturity=-0.2,
        gap=0.9,
        response_rate=0.45,
        waves=(_Wave(120, 5),),
        split=("NUR-WRD",),
    ),
    _OrgSpec(
        name="De Linde Care Group",
        sector="healthcare",
        size_band="250-999",
        template=CARE_GROUP,
        staff=900,
        maturity=0.1,
        gap=0.4,
        response_rate=0.5,
        waves=(_Wave(200, 4),),
    ),
    _OrgSpec(
        name="Het Anker GP Practice",
        sector="healthcare",
        size_band="1-49",
        template=GP_PRACTICE,
        staff=34,
        maturity=0.55,
        gap=0.2,
        response_rate=0.85,
        waves=(_Wave(45, 3),),
    ),
    _OrgSpec(
        name="Verbeke Fashion",
        sector="retail",
        size_band="1000+",
        template=RETAIL,
        staff=3600,
        maturity=0.35,
        gap=0.7,
        response_rate=0.4,
        waves=(_Wave(95, 4),),
    ),
    _OrgSpec(
        name="Korenbloem Bakeries",
        sector="retail",
        size_band="50-249",
        template=BAKERY,
        staff=160,
        maturity=0.25,
        gap=0.3,
        response_rate=0.6,
        waves=(_Wave(150, 3),),
    ),
    _OrgSpec(
        name="Oost Cooperative Bank",
        sector="finance",
        size_band="1000+",
        template=BANK,
        staff=7000,
        maturity=-0.6,
        gap=1.0,
        response_rate=0.5,
        waves=(_Wave(300, 4),),
    ),
    _OrgSpec(
        name="Helder Insurance",
        sector="finance",
        size_band="250-999",
        template=INSURER,
        staff=820,
        maturity=-0.3,
        gap=0.6,
        response_rate=0.62,
        waves=(_Wave(180, 4),),
    ),
    _OrgSpec(
        name="Brug Payments",
        sector="finance",
        size_band="50-249",
        template=FINTECH,
        staff=110,
        maturity=0.85,
        gap=0.25,
        response_rate=0.75,
        waves=(_Wave(60, 3),),
    ),
    _OrgSpec(
        name="Kempenland University of Applied Sciences",
        sector="education",
        size_band="1000+",
        template=UNIVERSITY,
        staff=2400,
        maturity=0.0,
        gap=0.7,
        response_rate=0.5,
        waves=(_Wave(500, 5), _Wave(136, 5, improvement=0.3)),
    ),
    _OrgSpec(
        name="Vlier School Group",
        sector="education",
        size_band="250-999",
        template=SCHOOL_GROUP,
        staff=640,
        maturity=-0.1,
        gap=0.5,
        response_rate=0.6,
        waves=(_Wave(220, 4),),
    ),
)
DEMO_ORGANISATION = ORGANISATIONS[0].name
DEMO_LINK_DEPARTMENTS = ("CIV-KCC", "COM-WEB", "SOC-YOU", "OPS-ICT", "SPA-PER")

# Share of respondents per role level, by department kind; the rest are employees.
ROLE_MIX: dict[str, dict[str, float]] = {
    "board": {"top_management": 0.7, "middle_management": 0.3},
    "conversation": {"conversation_team": 0.75, "middle_management": 0.05},
    "staff": {"top_management": 0.025, "middle_management": 0.15, "conversation_team": 0.012},
    "small": {"middle_management": 0.2},
}
# Role effect as a multiple of the organisation's perception gap: the top rates highest,
# the conversation team and middle management lie between the top and the employees.
ROLE_EFFECT = {
    "top_management": 1.0,
    "conversation_team": 0.6,
    "middle_management": 0.45,
    "employee": 0.0,
}

COMMENTS: dict[str, tuple[str, ...]] = {
    "en": (
        "Our manager asks for ideas, but we rarely hear what happened to them.",
        "Customers often know about changes before we do.",
        "I would like some training before I post about my work online.",
        "The webcare team answers quickly; the rest of us do not know how to help them.",
        "Decisions are still made at the top and announced by e-mail.",
        "Since last year there is more room to try things out.",
        "It is not clear to me what I may say about my work on social media.",
        "Other departments feel far away; we hardly work together.",
        "We listen to complaints, but nothing changes afterwards.",
        "Good to be asked. I hope the results will be shared with everyone.",
    ),
    "nl": (
        "Onze leidinggevende vraagt om ideeën, maar we horen zelden wat ermee gebeurt.",
        "Klanten weten vaak eerder van veranderingen dan wij.",
        "Ik zou graag een training krijgen voordat ik online iets over mijn werk deel.",
        "Het webcareteam reageert snel; de rest van ons weet niet hoe we kunnen helpen.",
        "Besluiten worden nog steeds bovenin genomen en per mail aangekondigd.",
        "Sinds vorig jaar is er meer ruimte om dingen uit te proberen.",
        "Het is mij niet duidelijk wat ik over mijn werk mag zeggen op sociale media.",
        "Andere afdelingen voelen ver weg; we werken nauwelijks samen.",
        "We luisteren naar klachten, maar daarna verandert er niets.",
        "Fijn dat het gevraagd wordt. Ik hoop dat iedereen de resultaten te zien krijgt.",
    ),
}

# Parameters of the answer model (latent units; one unit is roughly one scale point).
PERSON_SD = 0.45  # a respondent's general outlook, shared by all dimensions
PERSON_DIMENSION_SD = 0.4  # a respondent's view of one dimension
ITEM_NOISE_SD = 0.65  # one answer's own noise
ORG_DIMENSION_SD = 0.35  # an organisation's profile around its mean
DEPARTMENT_SD = 0.25  # a department's general deviation
DEPARTMENT_DIMENSION_SD = 0.15
ITEM_DIFFICULTY_SD = 0.25  # some statements are easier to agree with than others
ACQUIESCENCE_SD = 0.2  # a tendency to agree with anything, whatever the keying
SPLIT_DISTANCE = 1.3  # how far each camp of a split department sits from its centre
DONT_KNOW_RATE = 0.03
SKIP_RATE = 0.004
STRAIGHT_LINER_RATE = 0.006  # respondents who tick the same answer throughout
COMMENT_RATE = 0.07
ANSWER_CHUNK = 50_000


# --------------------------------------------------------------------------- the summary


@dataclass(frozen=True, slots=True)
class DemoLink:
    """A survey link of the open demo campaign."""

    department: str
    token: str


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo account and its fixed password."""

    role: str
    email: str
    password: str
    organisation: str | None


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo holds and how to try it: the text ``make run`` prints."""

    created: bool
    organisations: int
    campaigns: int
    responses: int
    organisation: str
    campaign: str | None
    closes_on: dt.date | None
    links: tuple[DemoLink, ...] = ()
    logins: tuple[DemoLogin, ...] = ()

    def describe(self, base_url: str | None = None) -> str:
        """The links and logins to try, on ``base_url`` (the app's address), as printable text."""
        base = (base_url or BASE_URL).rstrip("/")
        lines = [
            ("Demo data loaded" if self.created else "Demo data already present")
            + f": {self.organisations} organisations, {self.campaigns} campaigns, "
            f"{self.responses} responses.",
            "",
        ]
        if self.links:
            lines.append(
                f"Staff survey of {self.organisation} ({self.campaign}, open until "
                f"{self.closes_on:%d %B %Y}); each link can be submitted once:"
            )
            width = max(len(link.department) for link in self.links)
            lines += [f"  {link.department:<{width}}  {base}/s/{link.token}" for link in self.links]
        elif self.campaign is None:
            lines.append(
                f"{self.organisation} has no open campaign, so there is no survey link to try; "
                "load the demo into an empty database for a fresh one."
            )
        else:
            lines.append(
                f"{self.campaign} of {self.organisation} no longer accepts responses; load the "
                "demo into an empty database for a campaign that is open today."
            )
        for login in self.logins:
            who = (
                f"Manager of {login.organisation}"
                if login.role == "manager"
                else "Consultant (all organisations)"
            )
            lines += [
                "",
                f"{who}: {base}/auth/login",
                f"  e-mail {login.email}   password {login.password}",
            ]
        return "\n".join(lines)


# --------------------------------------------------------------------------- loading


def load_demo(seed: int = 20261123, scale: float = 1.0) -> DemoSummary:
    """Add the demo organisations, campaigns, responses and accounts, unless already there."""
    if not 0 < scale <= MAX_SCALE:
        raise ServiceError(f"The demo scale must be above 0 and at most {MAX_SCALE:g}.")
    loaded = (
        db.session.scalar(sa.select(User.id).filter_by(email=CONSULTANT_EMAIL)) is not None
        or db.session.scalar(sa.select(Organisation.id).filter_by(name=DEMO_ORGANISATION))
        is not None
    )
    if not loaded:
        _create(latest_questionnaire(QUESTIONNAIRE_ID), np.random.default_rng(seed), scale)
    return _summary(created=not loaded)


def _create(questionnaire: Questionnaire, rng: np.random.Generator, scale: float) -> None:
    model = _AnswerModel(questionnaire, rng)
    on = today()
    organisations = []
    for spec in ORGANISATIONS:
        organisation = create_organisation(spec.name, spec.sector, spec.size_band)
        organisations.append(organisation)
        departments = _departments(spec)
        # Respondents per wave and department, drawn first: at a scale above 1 a
        # department's headcount grows so that it never has fewer people than respondents.
        counts = [_respondents(spec, wave, departments, rng, scale) for wave in spec.waves]
        for dep_index, row in enumerate(departments):
            row[3] = max(row[3], *(int(c[dep_index]) for c in counts))
        csv_text = "".join(
            write_csv(
                list(DEPARTMENT_COLUMNS), ([c, n, p or "", h] for c, n, p, h, _ in departments)
            )
        )
        import_departments(organisation, csv_text, f"{spec.name} departments.csv")
        by_code = {d.code: d for d in organisation.departments}
        org_effect = model.organisation_effect(spec)
        dep_effects = {code: model.department_effect() for code in by_code}
        for wave, wave_counts in zip(spec.waves, counts, strict=True):
            if wave.improvement:
                org_effect = org_effect + model.improvement(wave.improvement)
            opens_on = on - dt.timedelta(days=wave.opens_days_ago)
            campaign = create_campaign(
                organisation,
                questionnaire,
                f"Staff survey {opens_on:%B %Y}",
                opens_on,
                opens_on + dt.timedelta(weeks=wave.weeks),
            )
            open_campaign(campaign)
            # The tree was frozen when the campaign opened, not when the demo was loaded.
            campaign.frozen_on = opens_on
            respondents = [
                (by_code[row[0]], row[4], row[0] in spec.split, n)
                for row, n in zip(departments, wave_counts, strict=True)
            ]
            model.insert_responses(
                campaign, spec, org_effect, dep_effects, respondents, min(on, campaign.closes_on)
            )
            if not wave.open:
                close_campaign(campaign)
    create_user(CONSULTANT_EMAIL, CONSULTANT_PASSWORD, "consultant")
    create_user(MANAGER_EMAIL, MANAGER_PASSWORD, "manager", organisations[0])


def _departments(spec: _OrgSpec) -> list[list]:
    """The template with headcounts: ``[code, name, parent, headcount, kind]`` per department."""
    total = sum(w for *_, w, kind in spec.template if kind != "small")
    fixed = sum(w for *_, w, kind in spec.template if kind == "small")
    share = max(spec.staff - fixed, 0) / total
    return [
        [code, name, parent, int(w) if kind == "small" else max(1, round(w * share)), kind]
        for code, name, parent, w, kind in spec.template
    ]


def _respondents(
    spec: _OrgSpec, wave: _Wave, departments: list[list], rng: np.random.Generator, scale: float
) -> np.ndarray:
    """Respondents per department in one wave."""
    headcounts = np.array([row[3] for row in departments])
    small = np.array([row[4] == "small" for row in departments])
    drawn = rng.binomial(headcounts, spec.response_rate)
    # Small departments keep 2 to 4 respondents at any scale so suppression stays visible.
    scaled = np.where(
        small, np.minimum(np.clip(drawn, 2, 4), headcounts), np.round(drawn * scale * wave.share)
    )
    return np.maximum(scaled, 1).astype(int)


class _AnswerModel:
    """Draws answers: latent maturity per respondent and dimension, cut into scale points.

    maturity(person, dimension) = organisation profile + department effect + role effect
    + person's general outlook + person's view of this dimension (+ camp, in a split
    department). An answer adds its own noise and the item's difficulty, is turned into
    agreement (mirrored for reverse-keyed items: agreeing means less maturity), gets the
    person's acquiescence, and is cut at thresholds spaced evenly around the midpoint.
    """

    def __init__(self, questionnaire: Questionnaire, rng: np.random.Generator) -> None:
        self.q = questionnaire
        self.rng = rng
        dims = [d.id for d in questionnaire.dimensions]
        self.n_dims = len(dims)
        self.item_ids = [item.id for item in questionnaire.items]
        self.item_dim = np.array([dims.index(item.dimension) for item in questionnaire.items])
        self.reverse = np.array([item.reverse for item in questionnaire.items])
        self.difficulty = rng.normal(0.0, ITEM_DIFFICULTY_SD, len(self.item_ids))
        # Some statements draw more "don't know" than others (a mean of DONT_KNOW_RATE).
        self.dont_know = (
            rng.gamma(2.0, DONT_KNOW_RATE / 2.0, len(self.item_ids))
            if questionnaire.scale.dont_know is not None
            else np.zeros(len(self.item_ids))
        )
        self.values = np.array(sorted(p.value for p in questionnaire.scale.points))
        spread = 1.5 * (len(self.values) - 1) / 4  # five points: cuts at ±0.5 and ±1.5
        self.cuts = np.linspace(-spread, spread, len(self.values) - 1)
        self.languages = list(questionnaire.languages)
        weights = np.array([4.0 if lang == "nl" else 1.0 for lang in self.languages])
        self.language_p = weights / weights.sum()

    def organisation_effect(self, spec: _OrgSpec) -> np.ndarray:
        return spec.maturity + self.rng.normal(0.0, ORG_DIMENSION_SD, self.n_dims)

    def department_effect(self) -> np.ndarray:
        general = self.rng.normal(0.0, DEPARTMENT_SD)
        return general + self.rng.normal(0.0, DEPARTMENT_DIMENSION_SD, self.n_dims)

    def improvement(self, size: float) -> np.ndarray:
        """A gain of ``size`` on about half the dimensions and a little on the rest."""
        improved = self.rng.random(self.n_dims) < 0.5
        improved[self.rng.integers(self.n_dims)] = True
        return np.where(improved, size, 0.2 * size)

    def insert_responses(
        self,
        campaign: Campaign,
        spec: _OrgSpec,
        org_effect: np.ndarray,
        dep_effects: dict[str, np.ndarray],
        respondents: Sequence[tuple[Department, str, bool, int]],
        last_day: dt.date,
    ) -> None:
        """Draw and bulk-insert the responses of one campaign (departments × counts)."""
        rng = self.rng
        roles: list[str] = []
        dep_ids: list[int] = []
        latent_parts: list[np.ndarray] = []
        for department, kind, split, n in respondents:
            mix = ROLE_MIX[kind]
            names = [*mix, "employee"]
            p = [*mix.values(), 1.0 - sum(mix.values())]
            drawn = rng.choice(names, size=n, p=p)
            roles += drawn.tolist()
            dep_ids += [department.id] * n
            base = org_effect + dep_effects[department.code]
            camp = (
                np.where(rng.random(n) < 0.5, -SPLIT_DISTANCE, SPLIT_DISTANCE)[:, None]
                if split
                else 0.0
            )
            role = np.array([ROLE_EFFECT[r] for r in drawn])[:, None] * spec.gap
            latent_parts.append(base + role + camp)
        n_total = len(roles)
        if n_total == 0:
            return
        theta = np.concatenate(latent_parts)
        theta = theta + rng.normal(0.0, PERSON_SD, (n_total, 1))
        theta = theta + rng.normal(0.0, PERSON_DIMENSION_SD, (n_total, self.n_dims))
        maturity = (
            theta[:, self.item_dim]
            - self.difficulty
            + rng.normal(0.0, ITEM_NOISE_SD, (n_total, len(self.item_ids)))
        )
        agreement = np.where(self.reverse, -maturity, maturity)
        agreement = agreement + rng.normal(0.0, ACQUIESCENCE_SD, (n_total, 1))
        answers = self.values[(agreement[..., None] > self.cuts).sum(axis=-1)]
        straight = rng.random(n_total) < STRAIGHT_LINER_RATE
        answers[straight] = rng.choice(self.values[len(self.values) // 2 :], straight.sum())[
            :, None
        ]
        # "Don't know" is stored as NULL; a skipped item has no row at all.
        person_dk = rng.gamma(2.0, 0.5, (n_total, 1))
        dont_know = rng.random(answers.shape) < self.dont_know * person_dk
        skipped = rng.random(answers.shape) < SKIP_RATE

        days = (last_day - campaign.opens_on).days
        # Most people answer in the first days after the invitation, fewer later.
        offsets = np.floor(rng.beta(1.0, 2.5, n_total) * (days + 1)).astype(int)
        languages = rng.choice(self.languages, size=n_total, p=self.language_p).tolist()
        commented = rng.random(n_total) < COMMENT_RATE
        comment_pick = rng.integers(0, 1 << 30, n_total)
        version_id = campaign.questionnaire_version_id
        # Each response's packed copy, from the same draws as its answer rows below.
        packed = pack_matrix(np.where(skipped, np.nan, answers), dont_know=dont_know)
        rows = [
            {
                "campaign_id": campaign.id,
                "department_id": dep_ids[i],
                "questionnaire_version_id": version_id,
                "role_level": roles[i],
                "language": languages[i],
                "source": "web",
                "submitted_on": campaign.opens_on + dt.timedelta(days=int(offsets[i])),
                "comment": _comment(languages[i], int(comment_pick[i])) if commented[i] else None,
                "answer_codes": packed[i],
            }
            for i in range(n_total)
        ]
        # Core inserts against the tables: the ORM's bulk insert starts a new batch whenever
        # the set of None values changes (a comment, a "don't know"), which is ten times slower.
        responses = Response.__table__
        ids = db.session.scalars(
            sa.insert(responses).returning(responses.c.id, sort_by_parameter_order=True), rows
        ).all()
        values = answers.tolist()
        dk = dont_know.tolist()
        skip = skipped.tolist()
        batch: list[dict] = []
        for response_id, row_values, row_dk, row_skip in zip(ids, values, dk, skip, strict=True):
            for item_id, value, unknown, skip_it in zip(
                self.item_ids, row_values, row_dk, row_skip, strict=True
            ):
                if skip_it:
                    continue
                batch.append(
                    {
                        "response_id": response_id,
                        "questionnaire_version_id": version_id,
                        "item_id": item_id,
                        "value": None if unknown else value,
                    }
                )
            if len(batch) >= ANSWER_CHUNK:
                db.session.execute(sa.insert(Answer.__table__), batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(Answer.__table__), batch)


def _comment(language: str, pick: int) -> str:
    pool = COMMENTS.get(language, COMMENTS["en"])
    return pool[pick % len(pool)]


# --------------------------------------------------------------------------- links and summary

# The app never stores a survey token, only its SHA-256 (see invitations.py), so a link
# cannot be read back from the database to be printed again. The demo's links are therefore
# derived from SECRET_KEY with HMAC: each run recomputes them and finds them by their hash.
# They cannot be guessed without the key, which a demo reachable by others needs. A new
# key orphans the old links; the next run then issues fresh ones.


def demo_token(secret: str | bytes, campaign_id: int, number: int) -> str:
    """The demo survey token number ``number`` of a campaign (43 URL-safe characters)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, f"demo-link-{campaign_id}-{number}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _demo_links(campaign: Campaign) -> tuple[DemoLink, ...]:
    """The unused demo links of the open campaign; new ones once every earlier one is used."""
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise ServiceError("SECRET_KEY is not set; the demo derives its survey links from it.")
    stored = {
        token_hash: (used, name)
        for token_hash, used, name in db.session.execute(
            sa.select(Invitation.token_hash, Invitation.used, Department.name)
            .join(Department, Department.id == Invitation.department_id)
            .where(Invitation.campaign_id == campaign.id)
        )
    }
    # Earlier runs issued numbers 1, 2, 3, ... without gaps: walk them until one is unknown.
    links: list[DemoLink] = []
    number = 1
    while True:
        token = demo_token(secret, campaign.id, number)
        found = stored.get(hash_token(token))
        if found is None:
            break
        used, name = found
        if not used:
            links.append(DemoLink(name, token))
        number += 1
    if links:
        return tuple(links)
    departments = {d.code: d for d in campaign.organisation.departments}
    targets = [departments[c] for c in DEMO_LINK_DEPARTMENTS if c in departments] or list(
        departments.values()
    )
    rows = []
    for offset in range(DEMO_LINKS):
        department = targets[offset % len(targets)]
        token = demo_token(secret, campaign.id, number + offset)
        rows.append(
            {
                "campaign_id": campaign.id,
                "department_id": department.id,
                "token_hash": hash_token(token),
                "used": False,
            }
        )
        links.append(DemoLink(department.name, token))
    db.session.execute(sa.insert(Invitation), rows)
    db.session.flush()
    return tuple(links)


def _summary(created: bool) -> DemoSummary:
    demo = db.session.scalar(sa.select(Organisation).filter_by(name=DEMO_ORGANISATION))
    campaign = (
        db.session.scalar(
            sa.select(Campaign)
            .filter_by(organisation_id=demo.id, status="open")
            .order_by(Campaign.opens_on.desc())
            .limit(1)
        )
        if demo is not None
        else None
    )
    links: tuple[DemoLink, ...] = ()
    if campaign is not None and campaign.opens_on <= today() <= campaign.closes_on:
        links = _demo_links(campaign)
    accounts = {
        email: role
        for email, role in db.session.execute(
            sa.select(User.email, User.role).where(
                User.email.in_([CONSULTANT_EMAIL, MANAGER_EMAIL])
            )
        )
    }
    logins = tuple(
        login
        for login in (
            DemoLogin("manager", MANAGER_EMAIL, MANAGER_PASSWORD, DEMO_ORGANISATION),
            DemoLogin("consultant", CONSULTANT_EMAIL, CONSULTANT_PASSWORD, None),
        )
        if accounts.get(login.email) == login.role
    )
    count = db.session.scalar
    return DemoSummary(
        created=created,
        organisations=count(sa.select(sa.func.count(Organisation.id))) or 0,
        campaigns=count(sa.select(sa.func.count(Campaign.id))) or 0,
        responses=count(sa.select(sa.func.count(Response.id))) or 0,
        organisation=DEMO_ORGANISATION,
        campaign=campaign.name if campaign is not None else None,
        closes_on=campaign.closes_on if campaign is not None else None,
        links=links,
        logins=logins,
    )
