"""Paper invitation slips: short codes that work as survey links, and the sheet they are
printed on.

A slip's code *is* its invitation token, so ``/s/<code>`` (the address in the slip's QR
code) finds it like any link, and like any link only its SHA-256 is stored: the PDF is
the only copy of the codes. A code is 16 symbols of Crockford's base32 (digits and
capitals without I, L, O and U), 80 random bits, printed in groups of four
(``K7QM-4TXP-9DRA-5WZB``). Typed codes are read loosely the way Crockford intended: case,
spaces and dashes do not matter, O is read as 0, and I and L as 1.

Guessing is bounded twice. A guess hits one of N unused codes with probability N / 2**80
(for 10,000 slips, one in 10**20), and the start page where codes are typed counts wrong
codes per client address in the sign-in throttle's table: ``WRONG_CODES_PER_CLIENT``
within the throttle's window (``SIGN_IN_WINDOW_MINUTES``, 15 by default) pause that
address for the window.

Like every service this adds and flushes but never commits.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..extensions import db
from ..i18n import long_date
from ..models import Campaign, CampaignDepartment, Invitation, SignInThrottle, today, utcnow
from . import ServiceError
from .invitations import hash_token, selected_departments, store_invitations
from .throttle import Blocked, throttle_key

# Crockford's base32: no I, L, O (read as 1, 1, 0) and no U.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits: beyond an offline search of a copied database
CODE_GROUP = 4
# What a typed code may contain besides its symbols: spaces and every kind of dash a
# phone keyboard or a word processor makes of "-".
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})

# Eight slips on an A4 page (2 × 4), and at most this many in one PDF: WeasyPrint takes
# about 45 ms of CPU per slip, so the request that makes the PDF stays under half a minute.
SLIPS_PER_PAGE = 8
MAX_SLIPS = 500

# Wrong codes typed from one client address within the throttle's window before it is
# paused for the window. Staff behind one office address share the allowance, so it is
# generous for typing mistakes.
WRONG_CODES_PER_CLIENT = 20

SLIP_LANGUAGES = {"nl": ("nl",), "en": ("en",), "both": ("nl", "en")}
QR_ERROR_LEVEL = "m"  # restores up to 15% of a smudged or creased code
QR_QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


# --------------------------------------------------------------------------- codes


def new_code() -> str:
    """A fresh random code of ``CODE_LENGTH`` symbols, without dashes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """The code as printed: groups of four joined by dashes (``K7QM-4TXP-9DRA-5WZB``)."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


def normalise_code(typed: str) -> str:
    """The typed text as a code would be written: capitals, no spaces or dashes, O→0, I/L→1.

    The result is only a candidate: ``is_code`` says whether it has a code's shape.
    """
    return _SEPARATORS.sub("", typed).upper().translate(_READ_AS)


def is_code(candidate: str) -> bool:
    """Whether a normalised text has the shape of a code (length and alphabet)."""
    return len(candidate) == CODE_LENGTH and all(c in CODE_ALPHABET for c in candidate)


def find_code(candidate: str) -> Invitation | None:
    """The invitation of a normalised code, or None if no slip has it."""
    if not is_code(candidate):
        return None
    return db.session.scalar(sa.select(Invitation).filter_by(token_hash=hash_token(candidate)))


@dataclass(frozen=True, slots=True)
class IssuedCode:
    department_code: str
    department_name: str
    code: str  # without dashes, as in the survey address

    @property
    def printed(self) -> str:
        return format_code(self.code)


@dataclass(frozen=True, slots=True)
class SlipBatch:
    """How many slips each department gets."""

    counts: tuple[tuple[CampaignDepartment, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _unit, n in self.counts)

    @property
    def pages(self) -> int:
        return math.ceil(self.total / SLIPS_PER_PAGE)


def check_printable(campaign: Campaign) -> None:
    """ServiceError unless staff could still answer with a slip printed today."""
    if campaign.status == "closed":
        raise ServiceError(
            _("This campaign is closed: nobody can answer any more, so no slips can be made.")
        )
    if campaign.closes_on < today():
        raise ServiceError(
            _(
                "The campaign's closing date, %(date)s, has passed. Extend the campaign "
                "before you print slips.",
                date=long_date(campaign.closes_on),
            )
        )


def plan_slips(
    campaign: Campaign, per_department: int | None, department_codes: list[str] | None = None
) -> SlipBatch:
    """How many slips each chosen department gets: ``per_department``, or its headcount.

    Raises ServiceError (in the reader's language) for a campaign that takes no answers,
    a department without a headcount when no number is given, no slips at all, or more
    than ``MAX_SLIPS`` in one go.
    """
    check_printable(campaign)
    units = selected_departments(campaign, department_codes)
    if per_department is not None:
        if not 1 <= per_department <= MAX_SLIPS:
            raise ServiceError(
                _("Enter a number of slips from %(min)d to %(max)d.", min=1, max=MAX_SLIPS)
            )
        counts = [(unit, per_department) for unit in units]
    else:
        unknown = [unit.name for unit in units if unit.headcount is None]
        if unknown:
            raise ServiceError(
                _(
                    "The number of people is not known for %(names)s. Enter the number of "
                    "slips per department.",
                    names=", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else ""),
                )
            )
        counts = [(unit, unit.headcount) for unit in units if unit.headcount]
    batch = SlipBatch(tuple(counts))
    if batch.total == 0:
        raise ServiceError(
            _("These departments have no people. Enter the number of slips per department.")
        )
    if batch.total > MAX_SLIPS:
        raise ServiceError(
            _(
                "That makes %(n)d slips; one PDF holds at most %(max)d. Choose one "
                "department at a time, or fewer slips.",
                n=batch.total,
                max=MAX_SLIPS,
            )
        )
    return batch


def issue_codes(
    campaign: Campaign, per_department: int | None = None, department_codes: list[str] | None = None
) -> list[IssuedCode]:
    """Create the codes for a batch of slips (see ``plan_slips``); only their hashes are kept.

    ``per_department`` None gives each department as many slips as its headcount.
    """
    batch = plan_slips(campaign, per_department, department_codes)
    codes = iter(_unused_codes(batch.total))
    tokens = [(unit, next(codes)) for unit, n in batch.counts for _ in range(n)]
    store_invitations(campaign, tokens)
    return [IssuedCode(unit.code, unit.name, code) for unit, code in tokens]


def _unused_codes(count: int) -> list[str]:
    """``count`` distinct codes that no invitation has yet.

    With 80 bits a repeat is very unlikely (about one in 10**18 for 1,000 new codes
    among a million), but the hash column is unique, so one would fail the whole batch.
    """
    codes: dict[str, None] = {}
    while len(codes) < count:
        fresh = {new_code() for _ in range(count - len(codes))} - codes.keys()
        hashes = {hash_token(code): code for code in fresh}
        taken = set(
            db.session.scalars(
                sa.select(Invitation.token_hash).where(Invitation.token_hash.in_(hashes))
            )
        )
        codes.update((code, None) for digest, code in hashes.items() if digest not in taken)
    return list(codes)


# --------------------------------------------------------------------------- guessing


def _client_key(client: str) -> str:
    # A kind of its own: wrong codes never count towards the office's sign-in pause.
    return throttle_key("code", client)


def code_entry_paused(client: str | None) -> Blocked | None:
    """Whether code entry from this client address is paused now."""
    if not client:
        return None
    now = utcnow()
    until = db.session.scalar(
        sa.select(SignInThrottle.blocked_until).where(
            SignInThrottle.key == _client_key(client), SignInThrottle.blocked_until > now
        )
    )
    if until is None:
        return None
    return Blocked(max(1, math.ceil((until - now).total_seconds())))


def record_wrong_code(client: str | None) -> Blocked | None:
    """Count a wrong code from this client; return the pause it starts, if any.

    Uses the sign-in throttle's counter (an atomic UPDATE, or an INSERT in a savepoint),
    so every worker and host shares the count. The caller commits.
    """
    # The counter's helpers are the throttle module's own; sharing them keeps one
    # implementation of the race-free count and of the clean-up of old rows.
    from .throttle import _block, _count_failure, _forget_old

    if not client:
        return None
    now = utcnow()
    # The sign-in window, not one of our own: the clean-up of old rows is shared, and a
    # shorter window here would delete sign-in counts that still apply.
    window = dt.timedelta(minutes=current_app.config["SIGN_IN_WINDOW_MINUTES"])
    key = _client_key(client)
    failures = _count_failure(key, now, window)
    _forget_old(now, window)
    if failures >= WRONG_CODES_PER_CLIENT:
        _block(key, now + window)
    db.session.flush()
    return Blocked(int(window.total_seconds())) if failures >= WRONG_CODES_PER_CLIENT else None


# --------------------------------------------------------------------------- the sheet


def survey_address(base_url: str, code: str) -> str:
    """The address in a slip's QR code: the survey link whose token is the code."""
    return f"{base_url.rstrip('/')}/s/{code}"


def qr_svg(address: str) -> Markup:
    """The QR code of ``address`` as an inline ``<svg>`` scaled by the print style sheet."""
    qr = segno.make(address, error=QR_ERROR_LEVEL, micro=False)
    return Markup(qr.svg_inline(omitsize=True, border=QR_QUIET_ZONE, svgclass="qr", lineclass=None))


def _words(campaign: Campaign, lang: str) -> dict[str, str]:
    """The slip's sentences in one language."""
    with force_locale(lang):
        return {
            "about": _(
                "An anonymous survey about how openly we talk with each other and with the "
                "people we work for. Nobody can see who answered what."
            ),
            "closes": _("Answer by %(date)s.", date=long_date(campaign.closes_on)),
            "how": _("Scan the QR code with your phone, or go to this address and type the code:"),
        }


def slip_sheet(
    campaign: Campaign, codes: list[IssuedCode], slip_language: str, base_url: str
) -> dict[str, Any]:
    """The plain data the print template ``reports/slips.html`` draws the slips from."""
    languages = SLIP_LANGUAGES[slip_language]
    start = f"{base_url.rstrip('/')}/code"
    slips = [
        {
            "department": issued.department_name,
            "code": issued.printed,
            "qr": qr_svg(survey_address(base_url, issued.code)),
        }
        for issued in codes
    ]
    return {
        "lang": languages[0],
        "languages": list(languages),
        "organisation": campaign.organisation.name,
        "campaign": campaign.name,
        # Typed by people on a phone: the scheme is left out where browsers add it.
        "start_address": start.removeprefix("https://"),
        "words": {lang: _words(campaign, lang) for lang in languages},
        "pages": [slips[i : i + SLIPS_PER_PAGE] for i in range(0, len(slips), SLIPS_PER_PAGE)],
    }
