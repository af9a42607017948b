"""API tokens: long random secrets that let a script read the JSON API as one user.

Only the SHA-256 of a token is stored (like invitation links), so the value shown once
when it is issued is the only copy. A token acts with exactly its user's rights: a
manager's token sees that manager's organisation, a consultant's sees all.

"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiToken, User, today
from . import ServiceError

# "sbm_" makes a leaked token recognisable to secret scanners and to people.
TOKEN_PREFIX = "sbm_"
MAX_TOKENS_PER_USER = 20
DEFAULT_DAYS = 90


def hash_api_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the secret, which is never stored."""
    name = name.strip()
    if not name:
        raise ServiceError("Give the token a name, for example the script that will use it.")
    if len(name) > 100:
        raise ServiceError("A token name can have at most 100 characters.")
    count = db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == user.id)
    )
    if count >= MAX_TOKENS_PER_USER:
        raise ServiceError(
            f"You already have {MAX_TOKENS_PER_USER} tokens. Revoke one you no longer use first."
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_api_token(secret),
        expires_on=today() + dt.timedelta(days=DEFAULT_DAYS),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def user_for_token(secret: str) -> User | None:
    """The user a token belongs to, or None for an unknown or revoked token.

    Records the day of use (at most one write per token per day).
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_api_token(secret))
    )
    if token is None:
        return None
    if token.last_used_on != today():
        token.last_used_on = today()
        db.session.flush()
    return token.user


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Delete one of the user's own tokens."""
    deleted = db.session.execute(
        sa.delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).rowcount
    if deleted != 1:
        raise ServiceError("That token does not exist or is not yours.")
    db.session.flush()
