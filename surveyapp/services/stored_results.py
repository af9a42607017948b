"""Computed results of closed campaigns, stored once in the database for every process.

A closed campaign's analysis takes about a second for 50,000 responses, and its PDF
several seconds. Each process keeps the reports it has used (``reporting._CACHE``), but
without this module every gunicorn worker on every host computed the same report again
after a close, and every download rendered the same PDF again. Here a result is
computed once, by whichever process asks first, and stored in the ``stored_result``
table of the database all of them share (SQLite on one host, PostgreSQL on many):

* ``report``: the campaign's :class:`~.reporting.CampaignReport`, keyed by the SHA-256 of
  the campaign's version (responses, status, thresholds, names, the closed campaigns the
  benchmark and the change read) and of the code that computed it (the app's source,
  translations, NumPy and SciPy), so an upgrade never serves a report of the old code.
* ``pdf``: a rendered PDF, keyed by the SHA-256 of the exact HTML it was rendered from
  (the report, the language, the scope, the comments and the action plan are all in the
  HTML) and of the code (style sheets and fonts included), so a stored PDF is the PDF
  that rendering now would give.

While one process computes a result, others asking for the same campaign wait for it
(a PostgreSQL advisory lock, or a lock file beside the SQLite database) and then read
it, instead of computing it too. A process that waits longer than ``LOCK_WAIT_SECONDS``
computes it itself: slower, never wrong.

A report is stored with ``pickle`` and read back only when its HMAC under the app's
secret key verifies, so somebody who can write to the database but does not hold the
secret cannot make the app unpickle what they wrote. A row that does not verify (a
changed secret key, for example) is treated as missing and replaced.

Rows are a cache: deleting any of them loses nothing but the time to compute it again.
Open campaigns are never stored: their results are not released, and each response
would make a new version.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import StoredResult, utcnow

if TYPE_CHECKING:
    from ..models import Campaign
    from .reporting import CampaignReport

log = logging.getLogger(__name__)

REPORT = "report"
PDF = "pdf"
# Rendered PDFs kept per campaign (languages × scopes × departments); the oldest go first.
PDFS_KEPT = 24
# How long a process waits for another one computing the same result.
LOCK_WAIT_SECONDS = 120.0
_LOCK_POLL_SECONDS = 0.05
# PostgreSQL advisory lock classes (the first key of the two-key form).
_LOCK_CLASS = {REPORT: 0x5245, PDF: 0x5044}


def _fingerprint_of_code() -> str:
    """SHA-256 of what computes, words and prints a report: the app's Python source,
    compiled translations and print templates, and the versions of Python, NumPy and
    SciPy. Taken when this module is imported, with the rest of the app's code, so a
    process labels its results with the code it runs even if files change under it."""
    from importlib.metadata import version

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:3]} {version('numpy')} {version('scipy')}".encode())
    # The print templates and style sheets beside the package (``pdf.REPORTS``) too:
    # a PDF's HTML links its style sheet rather than containing it.
    files = (
        sorted(root.rglob("*.py"))
        + sorted(root.glob("translations/*/LC_MESSAGES/*.mo"))
        + sorted(p for p in (root.parent / "reports").rglob("*") if p.is_file())
    )
    for path in files:
        digest.update(path.relative_to(root.parent).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


_code_fingerprint = _fingerprint_of_code()


def code_fingerprint() -> str:
    """The code's fingerprint (``_fingerprint_of_code``), taken once per process."""
    return _code_fingerprint


def report_key(version: tuple) -> str:
    """The stored report's key for a campaign version (``reporting.campaign_version``)."""
    return hashlib.sha256(f"{code_fingerprint()}|{version!r}".encode()).hexdigest()


def _signature(kind: str, key: str, payload: bytes) -> str:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    signing_key = hmac.new(secret, b"stored-result", hashlib.sha256).digest()
    message = kind.encode() + b"\0" + key.encode() + b"\0" + payload
    return hmac.new(signing_key, message, hashlib.sha256).hexdigest()


def _load(campaign_id: int, kind: str, key: str) -> bytes | None:
    """The stored payload if there is one and it verifies. Read on a connection of its
    own, so a result another process committed a moment ago is seen (the request's own
    transaction may hold an older snapshot)."""
    with db.engine.connect() as connection:
        row = connection.execute(
            sa.select(StoredResult.payload, StoredResult.signature).where(
                StoredResult.campaign_id == campaign_id,
                StoredResult.kind == kind,
                StoredResult.key == key,
            )
        ).first()
    if row is None:
        return None
    payload = bytes(row.payload)
    if not hmac.compare_digest(_signature(kind, key, payload), row.signature):
        log.warning(
            "Stored %s of campaign %s does not verify (secret key changed?); computing it again.",
            kind,
            campaign_id,
        )
        return None
    return payload


def _store(campaign_id: int, kind: str, key: str, payload: bytes) -> None:
    """Store a result on a connection of its own (the request's transaction is left
    alone), replacing a row that did not verify and dropping what is out of date: other
    reports of the campaign, and PDFs beyond the newest ``PDFS_KEPT``."""
    table = StoredResult.__table__
    try:
        with db.engine.begin() as connection:
            connection.execute(
                table.delete().where(
                    table.c.campaign_id == campaign_id,
                    table.c.kind == kind,
                    table.c.key == key if kind == PDF else sa.true(),
                )
            )
            connection.execute(
                table.insert().values(
                    campaign_id=campaign_id,
                    kind=kind,
                    key=key,
                    payload=payload,
                    signature=_signature(kind, key, payload),
                    created_at=utcnow(),
                )
            )
            if kind == PDF:
                keep = (
                    sa.select(table.c.id)
                    .where(table.c.campaign_id == campaign_id, table.c.kind == PDF)
                    .order_by(table.c.created_at.desc(), table.c.id.desc())
                    .limit(PDFS_KEPT)
                    .scalar_subquery()
                )
                connection.execute(
                    table.delete().where(
                        table.c.campaign_id == campaign_id,
                        table.c.kind == PDF,
                        table.c.id.not_in(keep),
                    )
                )
    except sa.exc.DBAPIError as error:
        # The result is right either way; only the next reader pays for it again.
        log.warning("Could not store the %s of campaign %s: %s", kind, campaign_id, error)


@contextlib.contextmanager
def _computing(campaign_id: int, kind: str) -> Iterator[None]:
    """Hold the lock for computing ``kind`` of this campaign, waiting for another
    process that holds it, at most ``LOCK_WAIT_SECONDS``."""
    engine = db.engine
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            arguments = {"a": _LOCK_CLASS[kind], "b": campaign_id}
            held = False
            while not held and time.monotonic() < deadline:
                held = connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:a, :b)"), arguments
                ).scalar()
                connection.commit()
                if not held:
                    time.sleep(_LOCK_POLL_SECONDS)
            try:
                yield
            finally:
                if held:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:a, :b)"), arguments)
                    connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # one process has the only connection: nothing to wait for
        return
    path = f"{database}.{kind}.lock"
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        # A folder the app may not write to: compute without waiting for others.
        log.warning("No lock file %s (%s); results may be computed more than once.", path, error)
        yield
        return
    try:
        held = False
        while not held and time.monotonic() < deadline:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                time.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def stored_report(
    campaign: Campaign, version: tuple, compute: Callable[[], CampaignReport]
) -> CampaignReport:
    """The campaign's report at ``version``: read from storage, or computed once (by this
    process, while others wait for it) and stored. Open campaigns are computed only."""
    if campaign.status != "closed":
        return compute()
    key = report_key(version)
    payload = _load(campaign.id, REPORT, key)
    if payload is None:
        with _computing(campaign.id, REPORT):
            payload = _load(campaign.id, REPORT, key)
            if payload is None:
                report = compute()
                _store(campaign.id, REPORT, key, pickle.dumps(replace(report, memo={}), 5))
                return report
    return pickle.loads(payload)  # noqa: S301 - verified with the app's HMAC above


def stored_pdf(campaign: Campaign, html: str, render: Callable[[], bytes]) -> bytes:
    """The PDF of ``html``: read from storage, or rendered once and stored."""
    key = hashlib.sha256(f"{code_fingerprint()}|{html}".encode()).hexdigest()
    payload = _load(campaign.id, PDF, key)
    if payload is None:
        with _computing(campaign.id, PDF):
            payload = _load(campaign.id, PDF, key)
            if payload is None:
                payload = render()
                _store(campaign.id, PDF, key, payload)
    return payload
