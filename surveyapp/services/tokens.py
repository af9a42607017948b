"""API tokens: long random secrets that let a script read the JSON API as one user.

Only the SHA-256 of a token is stored (like invitation links), so the value shown once
when it is issued is the only copy. A token acts with exactly its user's rights: a
manager's token sees that manager's organisation, a consultant's sees all. Every token
expires (after ``API_TOKEN_DAYS`` days unless another lifetime of 1 to 365 days is
chosen), and stops working at once when it is revoked or its account is disabled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiToken, User, today
from . import ServiceError
from .audit import record

# "sbm_" makes a leaked token recognisable to secret scanners and to people.
TOKEN_PREFIX = "sbm_"
MAX_TOKENS_PER_USER = 20
MAX_NAME_LENGTH = 100
MIN_DAYS = 1
MAX_DAYS = 365
# Longer than any token we issue (prefix + 43 characters): anything longer is not ours and
# is refused before it is hashed.
MAX_SECRET_LENGTH = 200
# The largest id SQLite stores (PostgreSQL's integer ids stop sooner, and simply match nothing).
MAX_ID = 2**63 - 1


class TokenRefused(ServiceError):
    """A token that grants no access; the message says why and how to get a working one.

    ``reason`` ("unknown", "expired" or "disabled") lets a page or a log say it its own way.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def hash_api_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_days() -> int:
    """The lifetime a token gets when none is chosen (``API_TOKEN_DAYS``, at most a year)."""
    return min(int(current_app.config["API_TOKEN_DAYS"]), MAX_DAYS)


def issue_token(
    user: User, name: str, days: int | None = None, *, actor: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` that works for ``days`` days from today.

    Returns the row and the secret, which is never stored. Records ``token_issued``;
    ``actor`` names who issued it when that is not the user themselves (``"cli"``).
    """
    name = name.strip()
    if not name:
        raise ServiceError("Give the token a name, for example the script that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ServiceError(f"A token name can have at most {MAX_NAME_LENGTH} characters.")
    days = default_days() if days is None else days
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ServiceError(
            f"A token can work for {MIN_DAYS} to {MAX_DAYS} days, not {days}. "
            "Issue a new one when it expires."
        )
    if user.disabled:
        raise ServiceError(f"The account {user.email} is disabled; it cannot have tokens.")
    count = db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == user.id)
    )
    if count >= MAX_TOKENS_PER_USER:
        raise ServiceError(
            f"{user.email} already has {MAX_TOKENS_PER_USER} tokens; revoke one that is no "
            "longer used first."
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_api_token(secret),
        created_on=today(),
        expires_on=today() + dt.timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    _record("token_issued", user, name, actor)
    return token, secret


def user_for_token(secret: str) -> User:
    """The user a working token belongs to; :class:`TokenRefused` for any other token.

    Records the day of use (at most one write per token per day), only when the token
    is accepted.
    """
    token = None
    if secret.startswith(TOKEN_PREFIX) and len(secret) <= MAX_SECRET_LENGTH:
        token = db.session.scalar(
            sa.select(ApiToken)
            .options(joinedload(ApiToken.user))
            .where(ApiToken.token_hash == hash_api_token(secret))
        )
    if token is None:
        raise TokenRefused(
            "This API token is not valid: it may have been revoked or copied incompletely. "
            "Create a new one on the page 'API tokens'.",
            "unknown",
        )
    if is_expired(token):
        raise TokenRefused(
            f"This API token expired on {token.expires_on.isoformat()}. Create a new one on "
            "the page 'API tokens', or ask an administrator to run 'surveyapp user token'.",
            "expired",
        )
    if token.user.disabled:
        raise TokenRefused(
            "The account this API token belongs to is disabled, so its tokens no longer work. "
            "Ask an administrator.",
            "disabled",
        )
    if token.last_used_on != today():
        token.last_used_on = today()
        db.session.flush()
    return token.user


def is_expired(token: ApiToken) -> bool:
    """Whether the token no longer works because its lifetime is over."""
    return token.expires_on <= today()


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int, *, actor: str | None = None) -> str:
    """Delete one of the user's own tokens and record ``token_revoked``; return its name."""
    token = None
    # A number no id column holds is simply not a token: SQLite's driver would overflow on
    # it, and PostgreSQL's 32-bit ids are compared as BIGINT so that it matches nothing.
    if 0 < token_id <= MAX_ID:
        token = db.session.scalar(
            sa.select(ApiToken).where(
                ApiToken.id == sa.literal(token_id, sa.BigInteger), ApiToken.user_id == user.id
            )
        )
    if token is None:
        raise ServiceError(f"Token {token_id} does not exist or does not belong to {user.email}.")
    name = token.name
    db.session.delete(token)
    db.session.flush()
    _record("token_revoked", user, name, actor)
    return name


def _record(event: str, user: User, name: str, actor: str | None) -> None:
    """Audit a token event: by the user themselves, or by ``actor`` (the CLI) for them."""
    if actor is None:
        record(event, user=user, detail=name)
    else:
        record(
            event, actor=actor, organisation=user.organisation_id, detail=f"{name} ({user.email})"
        )
