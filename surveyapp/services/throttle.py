"""Sign-in throttling, kept in the database so every worker process and host shares it.

Why the database and not Flask-Limiter: every deployment already has the database
(SQLite on one host, PostgreSQL when several hosts serve the app), while Flask-Limiter
shares counts across hosts only through Redis, Memcached or MongoDB, which a small
deployment does not run; its in-memory default counts per process, so with two
gunicorn workers an attacker gets twice the attempts. A failed sign-in is rare, so
the one extra UPDATE it costs is nothing, and a successful one costs one read.

Two counters apply to every attempt:

- per account (the address typed, whether or not the account exists, so the
  throttle does not reveal which exist): after ``SIGN_IN_ACCOUNT_FAILURES`` failures
  within ``SIGN_IN_WINDOW_MINUTES`` the account is paused for 1 minute, then 2, 4, ...
  up to ``SIGN_IN_MAX_BLOCK_MINUTES`` (exponential back-off), even for the right
  password; a successful sign-in clears the account's counter;
- per client address: after ``SIGN_IN_CLIENT_FAILURES`` failures within the window the
  address is paused for the window, whichever accounts it tries (a password spray).

Keys are HMACs under the app's secret: the table holds neither addresses nor the
e-mail addresses that were tried, and rows go when their window has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import SignInThrottle, utcnow


@dataclass(frozen=True)
class Blocked:
    """Attempts are paused; ``seconds`` until the next one is heard."""

    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def throttle_key(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    message = f"{kind}:{value.strip().lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _keys(account: str, client: str | None) -> list[str]:
    keys = [throttle_key("account", account)]
    if client:
        keys.append(throttle_key("client", client))
    return keys


def blocked(account: str, client: str | None) -> Blocked | None:
    """Whether attempts for this account or from this client are paused now."""
    now = utcnow()
    until = db.session.scalar(
        sa.select(sa.func.max(SignInThrottle.blocked_until)).where(
            SignInThrottle.key.in_(_keys(account, client)),
            SignInThrottle.blocked_until > now,
        )
    )
    if until is None:
        return None
    return Blocked(max(1, math.ceil((until - now).total_seconds())))


def _count_failure(key: str, now: dt.datetime, window: dt.timedelta) -> int:
    """Add one failure to ``key`` atomically; return the count within the window."""
    start = now - window
    table = SignInThrottle.__table__
    expired = table.c.first_failure_at < start
    failures = db.session.execute(
        sa.update(table)
        .where(table.c.key == key)
        .values(
            failures=sa.case((expired, 1), else_=table.c.failures + 1),
            first_failure_at=sa.case((expired, now), else_=table.c.first_failure_at),
        )
        .returning(table.c.failures)
    ).scalar()
    if failures is not None:
        return failures
    try:
        with db.session.begin_nested():
            db.session.execute(sa.insert(table).values(key=key, failures=1, first_failure_at=now))
        return 1
    except sa.exc.IntegrityError:
        # Another worker inserted the row between our UPDATE and INSERT.
        return _count_failure(key, now, window)


def record_failure(account: str, client: str | None) -> Blocked | None:
    """Count a failed attempt; return the pause it starts, if any. The caller commits."""
    config = current_app.config
    now = utcnow()
    window = dt.timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"])
    longest = dt.timedelta(minutes=config["SIGN_IN_MAX_BLOCK_MINUTES"])
    pauses: list[dt.timedelta] = []
    account_key, *client_keys = _keys(account, client)
    over = _count_failure(account_key, now, window) - config["SIGN_IN_ACCOUNT_FAILURES"]
    if over >= 0:
        pause = min(longest, dt.timedelta(minutes=2 ** min(over, 20)))
        pauses.append(pause)
        _block(account_key, now + pause)
    for key in client_keys:
        if _count_failure(key, now, window) >= config["SIGN_IN_CLIENT_FAILURES"]:
            pauses.append(window)
            _block(key, now + window)
    _forget_old(now, window)
    db.session.flush()
    if not pauses:
        return None
    return Blocked(int(max(pauses).total_seconds()))


def _block(key: str, until: dt.datetime) -> None:
    db.session.execute(
        sa.update(SignInThrottle).where(SignInThrottle.key == key).values(blocked_until=until)
    )


def _forget_old(now: dt.datetime, window: dt.timedelta) -> None:
    db.session.execute(
        sa.delete(SignInThrottle).where(
            SignInThrottle.first_failure_at < now - window,
            sa.or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until < now),
        )
    )


def record_success(account: str) -> None:
    """A successful sign-in clears the account's counter (not the client's)."""
    db.session.execute(
        sa.delete(SignInThrottle).where(SignInThrottle.key == throttle_key("account", account))
    )
