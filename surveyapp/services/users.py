"""Manager and consultant accounts."""

from __future__ import annotations

import re

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import USER_ROLES, Organisation, User
from . import ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def create_user(
    email: str, password: str, role: str, organisation: Organisation | None = None
) -> User:
    """Add an account; a manager belongs to exactly one organisation, a consultant to none."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise ServiceError(f"{email!r} is not an e-mail address.")
    if role not in USER_ROLES:
        raise ServiceError(f"Role {role!r} is not known; use one of: {', '.join(USER_ROLES)}.")
    if role == "manager" and organisation is None:
        raise ServiceError("A manager account needs the organisation it may see.")
    if role == "consultant" and organisation is not None:
        raise ServiceError("A consultant sees every organisation; do not give one.")
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"The password must have at least {MIN_PASSWORD} characters.")
    if db.session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise ServiceError(f"An account for {email} already exists.")
    user = User(
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
        organisation=organisation,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None."""
    user = db.session.scalar(sa.select(User).filter_by(email=email.strip().lower()))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user
