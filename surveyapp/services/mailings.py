"""Invitations and reminders by e-mail: recipients, mailings, and the job that sends them.

Addresses exist only to deliver the survey link. Each recipient gets their own
invitation (a single-use link); the link's token is kept sealed (AES-256-GCM, key from
the app's secret by HKDF-SHA256) so a reminder can repeat it, and the database alone
cannot read it. Recipients and their messages are deleted when the campaign closes.
A response has no reference to its invitation, so none to a recipient.

Sending is idempotent. For each message a worker claims it (pending -> sending), sends
it, and marks it sent; a job that runs twice finds the messages sent and sends nothing.
The mark of one message and the claim of the next are one commit, made before the next
message goes to the SMTP server: one commit per message, and at any moment at most one
message is claimed and not marked. Marking in batches would save commits, but a worker
killed in the middle of a batch would leave messages the server had accepted unmarked,
and they would be sent again; so each mark is committed before anything else is sent.

**The rule for a message stuck in "sending".** A worker sends a mailing only while it
holds the mailing's *sending lock*: a PostgreSQL session advisory lock, or with SQLite an
exclusive ``flock`` on a file in the instance folder. Both are released by PostgreSQL or
by the operating system when the worker's connection or process ends, however it ends
(even SIGKILL). So a worker that takes the lock and finds messages in "sending" knows
that the worker that claimed them is gone, between claiming and marking. It cannot know
whether the SMTP server had accepted them; it sends them again, with the same
Message-ID, so that mail programs which see both show one. A duplicate is possible only
if the worker died in the moment between the server's acceptance and the commit, and
then only of that one message.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import io
import os
import re
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..extensions import db
from ..models import Campaign, Invitation, Mailing, OutgoingMail, Recipient, today
from . import ServiceError
from .invitations import hash_token, issue_invitations

FORMAT_VERSION = 1
# A label of its own, so this key never coincides with another key from the secret.
KEY_INFO = b"surveyapp recipient link key v1"
NONCE_BYTES = 12
MAX_RECIPIENTS_PER_FILE = 100_000
# A message that failed this many times for a passing reason is given up as failed.
MAX_ATTEMPTS = 6
# Namespace of the PostgreSQL advisory locks taken while a mailing is sent ("ML").
ADVISORY_LOCK_NAMESPACE = 0x4D4C
# Deliberately simple: one @, no spaces or angle brackets, a dot in the domain. The
# SMTP server is the final judge; this catches the typing and pasting mistakes.
ADDRESS = re.compile(
    r"^[^@\s<>(),;:\"\[\]\x00-\x1f\x7f]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class MailingIncomplete(RuntimeError):
    """Some messages failed for a reason that may pass; the job is retried later."""


@dataclass(frozen=True, slots=True)
class AddressProblem:
    """Why a list of addresses is refused: one row at fault, or the list as a whole.

    ``kind`` is ``empty``, ``invalid``, ``duplicate`` (``first_row`` has it too),
    ``already`` (a recipient of the campaign already), or for the whole list
    ``no_email_column``, ``too_many`` (``row`` holds the count) and ``no_addresses``.
    """

    kind: str
    row: int | None = None
    value: str = ""
    first_row: int | None = None

    def __str__(self) -> str:
        if self.kind == "empty":
            return f"row {self.row}: the e-mail address is empty"
        if self.kind == "invalid":
            return f"row {self.row}: {self.value!r} is not an e-mail address"
        if self.kind == "duplicate":
            return f"row {self.row}: {self.value} is also on row {self.first_row} (duplicate)"
        return self.value or self.kind


class AddressListError(ServiceError):
    """A list of addresses refused whole; ``problems`` says why, row by row."""

    def __init__(self, message: str, problems: list[AddressProblem]):
        super().__init__(message)
        self.problems = problems


# --- sealed links -----------------------------------------------------------------


def _link_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO)
    return hkdf.derive(secret_key.encode("utf-8"))


def _associated_data(invitation_id: int) -> bytes:
    return bytes([FORMAT_VERSION]) + b"recipient:" + str(invitation_id).encode("ascii")


def seal_link(token: str, secret_key: str, invitation_id: int) -> bytes:
    """Encrypt a survey token for the recipient row of ``invitation_id``."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_link_key(secret_key)).encrypt(
        nonce, token.encode("utf-8"), _associated_data(invitation_id)
    )
    return bytes([FORMAT_VERSION]) + nonce + sealed


def open_link(sealed: bytes, secret_key: str, invitation_id: int) -> str:
    """Decrypt a sealed token; ServiceError if the secret changed or the row was altered."""
    try:
        if sealed[0] != FORMAT_VERSION:
            raise InvalidTag
        nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        plain = AESGCM(_link_key(secret_key)).decrypt(
            nonce, ciphertext, _associated_data(invitation_id)
        )
    except (InvalidTag, IndexError):
        raise ServiceError(
            "The survey link does not open with this server's secret key "
            "(SURVEYAPP_SECRET_KEY changed, or the row was altered)."
        ) from None
    return plain.decode("utf-8")


# --- recipients -------------------------------------------------------------------


def parse_addresses(text: str, filename: str = "the list") -> list[str]:
    """Addresses from one-per-line text or a CSV with an ``email`` column.

    Every problem is reported with its row number, and nothing is returned unless the
    whole list is right.
    """
    rows = text.splitlines()
    first = rows[0] if rows else ""
    problems: list[AddressProblem] = []
    addresses: list[tuple[int, str]] = []
    if "," in first or ";" in first or first.strip().lower() == "email":
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header = [h.strip().lower() for h in next(reader, [])]
        if "email" not in header:
            raise AddressListError(
                f"{filename}: the first row has no 'email' column; give one address per "
                "line, or a CSV whose header names the 'email' column.",
                [AddressProblem("no_email_column")],
            )
        column = header.index("email")
        for number, row in enumerate(reader, start=2):
            value = row[column].strip() if column < len(row) else ""
            if value or any(cell.strip() for cell in row):
                addresses.append((number, value))
    else:
        for number, line in enumerate(rows, start=1):
            if line.strip():
                addresses.append((number, line.strip()))
    if len(addresses) > MAX_RECIPIENTS_PER_FILE:
        raise AddressListError(
            f"{filename} has {len(addresses)} addresses; split it into files of at most "
            f"{MAX_RECIPIENTS_PER_FILE}.",
            [AddressProblem("too_many", row=len(addresses))],
        )
    seen: dict[str, int] = {}
    for number, value in addresses:
        if not value:
            problems.append(AddressProblem("empty", number))
        elif len(value) > 254 or not ADDRESS.match(value):
            problems.append(AddressProblem("invalid", number, value))
        elif value.lower() in seen:
            problems.append(AddressProblem("duplicate", number, value, seen[value.lower()]))
        else:
            seen[value.lower()] = number
    if problems:
        raise AddressListError(
            f"{filename}: nothing was stored. " + "; ".join(map(str, problems)) + ".", problems
        )
    if not addresses:
        raise AddressListError(
            f"{filename} has no e-mail addresses.", [AddressProblem("no_addresses")]
        )
    return [value for _, value in addresses]


def add_recipients(
    campaign: Campaign, department_code: str, text: str, secret_key: str, filename: str = "the list"
) -> int:
    """Add the addresses of one department, each with its own invitation; flush, no commit.

    Refuses the whole list (naming each row) if an address is malformed, repeated, or
    already a recipient of the campaign.
    """
    addresses = parse_addresses(text, filename)
    existing = set(
        db.session.scalars(
            sa.select(sa.func.lower(Recipient.email)).where(Recipient.campaign_id == campaign.id)
        )
    )
    already = [a for a in addresses if a.lower() in existing]
    if already:
        raise AddressListError(
            f"{filename}: nothing was stored. Already invited to campaign {campaign.id}: "
            + ", ".join(already[:20])
            + (f" and {len(already) - 20} more" if len(already) > 20 else "")
            + ".",
            [AddressProblem("already", value=a) for a in already],
        )
    links = issue_invitations(campaign, len(addresses), [department_code])
    ids: dict[str, int] = {}
    hashes_ = [hash_token(link.token) for link in links]
    for start in range(0, len(hashes_), 500):
        chunk = hashes_[start : start + 500]
        ids.update(
            db.session.execute(
                sa.select(Invitation.token_hash, Invitation.id).where(
                    Invitation.token_hash.in_(chunk)
                )
            ).all()
        )
    department_id = db.session.scalar(
        sa.select(Invitation.department_id).where(Invitation.id == ids[hashes_[0]])
    )
    rows = []
    for address, link, token_hash in zip(addresses, links, hashes_, strict=True):
        invitation_id = ids[token_hash]
        rows.append(
            {
                "campaign_id": campaign.id,
                "department_id": department_id,
                "email": address,
                "invitation_id": invitation_id,
                "sealed_link": seal_link(link.token, secret_key, invitation_id),
            }
        )
    db.session.execute(sa.insert(Recipient), rows)
    db.session.flush()
    return len(rows)


def delete_recipients(campaign: Campaign) -> None:
    """Remove a campaign's addresses, sealed links and messages (at close); flush."""
    recipients = sa.select(Recipient.id).where(Recipient.campaign_id == campaign.id)
    db.session.execute(sa.delete(OutgoingMail).where(OutgoingMail.recipient_id.in_(recipients)))
    db.session.execute(sa.delete(Recipient).where(Recipient.campaign_id == campaign.id))
    db.session.execute(
        sa.update(Mailing)
        .where(Mailing.campaign_id == campaign.id, Mailing.status.in_(("scheduled", "sending")))
        .values(status="cancelled")
    )
    db.session.flush()


# --- scheduling -------------------------------------------------------------------


def schedule_invitations(campaign: Campaign, on: dt.date | None = None) -> Mailing:
    """Schedule the invitation to every recipient not yet invited; flush, no commit.

    Sent ``on`` that day, by default today or the opening day if that is later.
    """
    if campaign.status == "closed":
        raise ServiceError(f"Campaign {campaign.id} is closed; it sends no invitations.")
    on = on or max(today(), campaign.opens_on)
    if on < today():
        raise ServiceError(f"The sending date ({on}) has passed; choose today or later.")
    if not campaign.opens_on <= on <= campaign.closes_on:
        raise ServiceError(
            f"The sending date ({on}) must fall while the campaign runs "
            f"({campaign.opens_on} to {campaign.closes_on})."
        )
    has_recipients = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Recipient)
        .where(Recipient.campaign_id == campaign.id)
    )
    if not has_recipients:
        raise ServiceError(
            f"Campaign {campaign.id} has no recipients; add addresses first "
            "(surveyapp invitations add)."
        )
    mailing = Mailing(campaign_id=campaign.id, kind="invitation", send_on=on, status="scheduled")
    db.session.add(mailing)
    db.session.flush()
    return mailing


def schedule_reminder(campaign: Campaign, on: dt.date | None = None) -> Mailing:
    """Schedule a reminder to recipients who have not answered by that day; flush."""
    if campaign.status != "open":
        raise ServiceError(
            f"Campaign {campaign.id} is {campaign.status}; reminders go only while it is open."
        )
    on = on or today()
    if on < today():
        raise ServiceError(f"The reminder date ({on}) has passed; choose today or later.")
    if not campaign.opens_on <= on <= campaign.closes_on:
        raise ServiceError(
            f"The reminder date ({on}) must fall while the campaign runs "
            f"({campaign.opens_on} to {campaign.closes_on})."
        )
    mailings = db.session.scalars(
        sa.select(Mailing).where(Mailing.campaign_id == campaign.id, Mailing.status != "cancelled")
    ).all()
    if not any(m.kind == "invitation" for m in mailings):
        raise ServiceError(
            f"Campaign {campaign.id} has no invitation mailing yet; send the invitations first."
        )
    reminders = [m for m in mailings if m.kind == "reminder"]
    if len(reminders) >= campaign.max_reminders:
        raise ServiceError(
            f"Campaign {campaign.id} allows {campaign.max_reminders} reminder(s) and has "
            f"{len(reminders)} already; staff are not reminded more often than that."
        )
    if any(m.send_on == on for m in reminders):
        raise ServiceError(f"A reminder is already scheduled on {on}.")
    mailing = Mailing(campaign_id=campaign.id, kind="reminder", send_on=on, status="scheduled")
    db.session.add(mailing)
    db.session.flush()
    return mailing


def due_mailing_ids(on: dt.date | None = None) -> list[int]:
    """Mailings whose day has come and that are not finished (open campaigns only)."""
    on = on or today()
    return list(
        db.session.scalars(
            sa.select(Mailing.id)
            .join(Campaign, Campaign.id == Mailing.campaign_id)
            .where(
                Mailing.status.in_(("scheduled", "sending")),
                Mailing.send_on <= on,
                Campaign.status == "open",
            )
            .order_by(Mailing.id)
        )
    )


# --- status -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailingCounts:
    """One mailing's messages. A reminder goes to the recipients who had not answered, so
    its exact size is a participation figure: for reminders ``messages`` is rounded down
    to a multiple of the threshold (None below it) and ``sent``/``waiting`` are None."""

    id: int
    kind: str
    send_on: dt.date
    status: str
    sent: int | None
    failed: int
    waiting: int | None
    messages: int | None


@dataclass(frozen=True, slots=True)
class CampaignMailStatus:
    """Counts only: never an address."""

    recipients: int
    answered: int | None  # rounded down to the threshold, as participation is
    threshold: int
    mailings: list[MailingCounts] = field(default_factory=list)


def mail_status(campaign: Campaign) -> CampaignMailStatus:
    """How many recipients, messages sent and failed per mailing, and answered (rounded).

    Nothing exact that depends on who has answered: the answered count and a reminder's
    size are rounded down to a multiple of the threshold.
    """
    from .release import rounded_count

    recipients = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Recipient)
        .where(Recipient.campaign_id == campaign.id)
    )
    answered = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Recipient)
        .join(Invitation, Invitation.id == Recipient.invitation_id)
        .where(Recipient.campaign_id == campaign.id, Invitation.used.is_(True))
    )
    counts = {
        (mailing_id, status): n
        for mailing_id, status, n in db.session.execute(
            sa.select(OutgoingMail.mailing_id, OutgoingMail.status, sa.func.count())
            .join(Mailing, Mailing.id == OutgoingMail.mailing_id)
            .where(Mailing.campaign_id == campaign.id)
            .group_by(OutgoingMail.mailing_id, OutgoingMail.status)
        )
    }
    mailings = []
    for m in db.session.scalars(
        sa.select(Mailing).where(Mailing.campaign_id == campaign.id).order_by(Mailing.id)
    ):
        sent = counts.get((m.id, "sent"), 0)
        failed = counts.get((m.id, "failed"), 0)
        waiting = counts.get((m.id, "pending"), 0) + counts.get((m.id, "sending"), 0)
        exact = m.kind != "reminder"
        mailings.append(
            MailingCounts(
                m.id,
                m.kind,
                m.send_on,
                m.status,
                sent if exact else None,
                failed,
                waiting if exact else None,
                sent + failed + waiting
                if exact
                else rounded_count(sent + failed + waiting, campaign.min_group_size),
            )
        )
    return CampaignMailStatus(
        recipients=recipients,
        answered=rounded_count(answered, campaign.min_group_size),
        threshold=campaign.min_group_size,
        mailings=mailings,
    )


def recipient_counts(campaign: Campaign) -> dict[int, int]:
    """How many addresses each department has on the list (the consultant's own input)."""
    return dict(
        db.session.execute(
            sa.select(Recipient.department_id, sa.func.count(Recipient.id))
            .where(Recipient.campaign_id == campaign.id)
            .group_by(Recipient.department_id)
        ).all()
    )


def uninvited_count(campaign: Campaign) -> int:
    """Recipients that no invitation mailing has reached or is reaching (those an
    invitation mailing would write to now, see ``_create_messages``)."""
    return sum(uninvited_counts(campaign).values())


def uninvited_counts(campaign: Campaign) -> dict[int, int]:
    """:func:`uninvited_count` per department id."""
    invited = (
        sa.select(OutgoingMail.recipient_id)
        .join(Mailing, Mailing.id == OutgoingMail.mailing_id)
        .where(
            Mailing.campaign_id == campaign.id,
            Mailing.kind == "invitation",
            OutgoingMail.status != "failed",
        )
    )
    return dict(
        db.session.execute(
            sa.select(Recipient.department_id, sa.func.count(Recipient.id))
            .where(
                Recipient.campaign_id == campaign.id,
                Recipient.sealed_link.is_not(None),
                Recipient.id.not_in(invited),
            )
            .group_by(Recipient.department_id)
        ).all()
    )


# An SMTP answer as smtplib's exceptions print it: (550, b'5.1.1 no such mailbox').
_SMTP_ANSWER = re.compile(r"\((\d{3}), b?(['\"])(.*?)\2\)")
_ANY_ADDRESS = re.compile(r"[^\s<>()'\",;:\[\]{}]+@[^\s<>()'\",;:\[\]{}]+")


def delivery_problem(error: str | None) -> str:
    """Why a message failed, as the SMTP server said it, with every address taken out."""
    if not error:
        return ""
    kind, separator, detail = error.partition(": ")
    answers = _SMTP_ANSWER.findall(detail)
    if answers:
        detail = "; ".join(sorted({f"{code} {text}".strip() for code, _quote, text in answers}))
    text = f"{kind}: {detail}" if separator else error
    return _ANY_ADDRESS.sub("(address)", text)


def failure_reasons(campaign: Campaign) -> list[tuple[str, int]]:
    """Messages that could not be delivered, counted per reason (no addresses), most first."""
    reasons: dict[str, int] = {}
    for error in db.session.scalars(
        sa.select(OutgoingMail.last_error)
        .join(Mailing, Mailing.id == OutgoingMail.mailing_id)
        .where(Mailing.campaign_id == campaign.id, OutgoingMail.status == "failed")
    ):
        reason = delivery_problem(error)
        reasons[reason] = reasons.get(reason, 0) + 1
    return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))


# --- sending ----------------------------------------------------------------------


@contextlib.contextmanager
def sending_lock(mailing_id: int) -> Iterator[bool]:
    """Hold the mailing's sending lock if no other worker does; yield whether it is held.

    Released when the block ends, and by PostgreSQL or the kernel if the worker dies.
    """
    from flask import current_app

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            held = connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(:namespace, :id)"),
                {"namespace": ADVISORY_LOCK_NAMESPACE, "id": mailing_id},
            )
            connection.commit()
            try:
                yield bool(held)
            finally:
                if held:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:namespace, :id)"),
                        {"namespace": ADVISORY_LOCK_NAMESPACE, "id": mailing_id},
                    )
                    connection.commit()
        return
    import fcntl

    folder = Path(current_app.instance_path) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"mailing-{mailing_id}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create_messages(mailing: Mailing) -> None:
    """One pending message per recipient the mailing is for."""
    recipients = sa.select(
        sa.literal(mailing.id), Recipient.id, sa.literal("pending"), sa.literal(0)
    ).where(Recipient.campaign_id == mailing.campaign_id, Recipient.sealed_link.is_not(None))
    if mailing.kind == "invitation":
        # Recipients added after an earlier invitation mailing get only this one.
        invited = (
            sa.select(OutgoingMail.recipient_id)
            .join(Mailing, Mailing.id == OutgoingMail.mailing_id)
            .where(
                Mailing.campaign_id == mailing.campaign_id,
                Mailing.kind == "invitation",
                Mailing.id != mailing.id,
                OutgoingMail.status != "failed",
            )
        )
        recipients = recipients.where(Recipient.id.not_in(invited))
    else:
        # Only those who have not answered, as it stands on the reminder's day.
        unanswered = sa.select(Invitation.id).where(
            Invitation.campaign_id == mailing.campaign_id, Invitation.used.is_(False)
        )
        recipients = recipients.where(Recipient.invitation_id.in_(unanswered))
    db.session.execute(
        sa.insert(OutgoingMail).from_select(
            ["mailing_id", "recipient_id", "status", "attempts"], recipients
        )
    )


def _message_id(config, outgoing_id: int) -> str:
    """The same Message-ID every time this message is sent (see the module docstring)."""
    domain = config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    tag = hmac.new(
        config["SECRET_KEY"].encode(), f"outgoing:{outgoing_id}".encode(), hashlib.sha256
    ).hexdigest()[:24]
    return f"<{tag}.{outgoing_id}@{domain}>"


# Stands for the link while a mailing's text is rendered once; every message then gets
# its own link by replacement (rendering twice per message cost more than sending it).
LINK_PLACEHOLDER = "\x00link\x00"


def _render(kind: str, campaign: Campaign, link: str = LINK_PLACEHOLDER) -> tuple[str, str]:
    """Subject and text of a bilingual message: Dutch first, then English."""
    from flask import render_template
    from flask_babel import force_locale
    from flask_babel import gettext as _

    parts, subjects = [], []
    for locale in ("nl", "en"):
        with force_locale(locale):
            subjects.append(
                _("Survey: %(name)s", name=campaign.name)
                if kind == "invitation"
                else _("Reminder: %(name)s", name=campaign.name)
            )
            parts.append(
                render_template(
                    f"mail/{kind}.txt",
                    organisation=campaign.organisation.name,
                    campaign=campaign.name,
                    closes_on=campaign.closes_on.strftime("%d-%m-%Y")
                    if locale == "nl"
                    else campaign.closes_on.isoformat(),
                    link=link,
                )
            )
    text = render_template("mail/bilingual.txt", dutch=parts[0], english=parts[1])
    return " / ".join(subjects), text


def _permanent(exc: Exception) -> bool:
    """An SMTP answer that will not change on a retry (5xx: no such mailbox, refused)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def send_mailing(mailing_id: int) -> None:
    """Send a mailing's messages that are not sent yet; commit after each step.

    Raises :class:`MailingIncomplete` when some messages failed for a passing reason, so
    the queue tries the job again later (with backoff).
    """
    with sending_lock(mailing_id) as held:
        if not held:
            return  # another worker is sending it now, and will send every message
        _send_locked(mailing_id)


def _send_locked(mailing_id: int) -> None:
    from flask import current_app, url_for

    from .mail import Mailer, MessageTemplate

    config = current_app.config
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status in ("done", "cancelled"):
        return
    campaign = db.session.get(Campaign, mailing.campaign_id)
    if campaign.status == "closed":
        mailing.status = "cancelled"
        db.session.commit()
        return
    if campaign.status != "open" or mailing.send_on > today():
        return  # not yet; the periodic dispatch comes back on the day
    if not config.get("BASE_URL"):
        raise ServiceError("Set SURVEYAPP_BASE_URL so the links in e-mails point at this server.")
    if mailing.status == "scheduled":
        _create_messages(mailing)
        mailing.status = "sending"
        db.session.commit()
    # We hold the lock, so no live worker is sending these: see the module docstring.
    db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.mailing_id == mailing.id, OutgoingMail.status == "sending")
        .values(status="pending")
    )
    db.session.commit()
    pending = db.session.execute(
        sa.select(
            OutgoingMail.id,
            Recipient.email,
            Recipient.invitation_id,
            Recipient.sealed_link,
            OutgoingMail.attempts,
        )
        .join(Recipient, Recipient.id == OutgoingMail.recipient_id)
        .where(OutgoingMail.mailing_id == mailing.id, OutgoingMail.status == "pending")
        .order_by(OutgoingMail.id)
    ).all()
    base = config["BASE_URL"].rstrip("/")
    retry_later = 0
    outcome: _Outcome | None = None  # of the message sent last, not yet committed
    with current_app.test_request_context(base_url=base), Mailer(config) as mailer:
        subject, text = _render(mailing.kind, campaign)
        message = MessageTemplate(config, subject)
        try:
            for outgoing_id, email, invitation_id, sealed, attempts in pending:
                claimed = _claim(outgoing_id, outcome)
                outcome = None
                if not claimed:
                    continue
                try:
                    token = open_link(sealed, config["SECRET_KEY"], invitation_id)
                except ServiceError as exc:
                    outcome = _Outcome(outgoing_id, "failed", str(exc))
                    continue
                link = base + url_for("survey.start", token=token)
                data = message.render(
                    email, _message_id(config, outgoing_id), text.replace(LINK_PLACEHOLDER, link)
                )
                try:
                    mailer.send_bytes(message.sender, email, data)
                except (smtplib.SMTPException, OSError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"[:300]
                    if _permanent(exc) or attempts + 1 >= MAX_ATTEMPTS:
                        outcome = _Outcome(outgoing_id, "failed", reason)
                    else:
                        outcome = _Outcome(outgoing_id, "pending", reason)
                        retry_later += 1
                        if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                            break  # the server itself is unwell: leave the rest for the retry
                    continue
                outcome = _Outcome(outgoing_id, "sent", None)
        finally:
            if outcome is not None:  # the last message's, also when an error stops the loop
                db.session.rollback()
                _record(outcome)
                db.session.commit()
    left = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutgoingMail)
        .where(
            OutgoingMail.mailing_id == mailing.id,
            OutgoingMail.status.in_(("pending", "sending")),
        )
    )
    if not left:
        mailing.status = "done"
        db.session.commit()
    elif retry_later:
        raise MailingIncomplete(
            f"Mailing {mailing.id}: {left} message(s) not sent yet; the job is retried."
        )


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one message: sent, failed, or pending again (to retry later)."""

    outgoing_id: int
    status: str
    error: str | None  # None once sent; why it failed otherwise


# Built once: the sending loop runs each of them once per message.
_OUTGOING = OutgoingMail.__table__
_CLAIM = (
    sa.update(_OUTGOING)
    .where(_OUTGOING.c.id == sa.bindparam("outgoing_id"), _OUTGOING.c.status == "pending")
    .values(status="sending", attempts=_OUTGOING.c.attempts + 1)
)
_MARK = (
    sa.update(_OUTGOING)
    .where(_OUTGOING.c.id == sa.bindparam("outgoing_id"))
    .values(status=sa.bindparam("new_status"), last_error=sa.bindparam("error"))
)


def _claim(outgoing_id: int, previous: _Outcome | None) -> bool:
    """Claim a pending message (-> sending) and record the previous one's outcome; commit.

    One commit per message: the previous message is marked in the same transaction that
    claims this one, and committed before this one is sent (see the module docstring).
    """
    if previous is not None:
        _record(previous)
    claimed = db.session.execute(_CLAIM, {"outgoing_id": outgoing_id}).rowcount
    db.session.commit()
    return bool(claimed)


def _record(outcome: _Outcome) -> None:
    """Write a message's outcome and why it failed, if it did (flush only; no commit)."""
    db.session.execute(
        _MARK,
        {"outgoing_id": outcome.outgoing_id, "new_status": outcome.status, "error": outcome.error},
    )
