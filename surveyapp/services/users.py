"""Manager and consultant accounts: creation, sign-in checks, passwords, sessions, resets."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import USER_ROLES, Department, Organisation, PasswordReset, User, utcnow
from . import ServiceError
from .passwords import check_password

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    email: str, password: str, role: str, organisation: Organisation | None = None
) -> User:
    """Add an account; a manager belongs to exactly one organisation, a consultant to none."""
    email = normalise_email(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise ServiceError(f"{email!r} is not an e-mail address.")
    if role not in USER_ROLES:
        raise ServiceError(f"Role {role!r} is not known; use one of: {', '.join(USER_ROLES)}.")
    if role == "manager" and organisation is None:
        raise ServiceError("A manager account needs the organisation it may see.")
    if role == "consultant" and organisation is not None:
        raise ServiceError("A consultant sees every organisation; do not give one.")
    check_password(password, email, *([organisation.name] if organisation else []))
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


def invite_manager(
    email: str, organisation: Organisation, days: int, department: Department | None = None
) -> tuple[User, str]:
    """A manager account that has no password yet, and a single-use link to set one.

    The account gets a random password nobody knows (hashed like any other, so signing
    in to it costs the same time as to any account); the link from
    :func:`issue_reset` works once, for ``days`` days. With ``department`` the manager
    reads that department's subtree only (``services/scope.py``).
    """
    _check_department(organisation, department)
    email = normalise_email(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise ServiceError(f"{email!r} is not an e-mail address.")
    if db.session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise ServiceError(f"An account for {email} already exists.")
    user = User(
        email=email,
        password_hash=generate_password_hash(secrets.token_urlsafe(32)),
        role="manager",
        organisation=organisation,
        department_id=department.id if department is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    return user, issue_reset(user, days * 24 * 60)


def _check_department(organisation: Organisation, department: Department | None) -> None:
    if department is not None and department.organisation_id != organisation.id:
        raise ServiceError(
            f"Department {department.code} belongs to another organisation than "
            f"{organisation.name}; choose one of {organisation.name}'s departments."
        )


def find_department(organisation: Organisation, code: str) -> Department:
    """The organisation's department with this code, or a ServiceError naming the codes."""
    department = db.session.scalar(
        sa.select(Department).filter_by(organisation_id=organisation.id, code=code)
    )
    if department is None:
        codes = db.session.scalars(
            sa.select(Department.code)
            .filter_by(organisation_id=organisation.id)
            .order_by(Department.code)
        ).all()
        raise ServiceError(
            f"{organisation.name} has no department {code!r}; "
            f"its codes are: {', '.join(codes) or 'none (import departments first)'}."
        )
    return department


def set_department(user: User, department: Department | None) -> None:
    """Limit a manager to ``department``'s subtree, or (None) let them read the whole
    organisation. Takes effect on their next page: nothing is cached per user."""
    if user.role != "manager" or user.organisation is None:
        raise ServiceError(f"{user.email} is not a manager; only managers can be limited.")
    _check_department(user.organisation, department)
    user.department_id = department.id if department is not None else None
    db.session.flush()


def managers_of(organisation: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.organisation_id == organisation.id).order_by(User.email)
        )
    )


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).filter_by(email=normalise_email(email)))


def get_user(email: str) -> User:
    """The account with this address, or a ServiceError that says none exists."""
    user = find_user(email)
    if user is None:
        raise ServiceError(f"There is no account for {normalise_email(email)}.")
    return user


def all_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.role, User.email)))


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made with the current method and cost."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this e-mail and password, or None.

    Takes the same time whether or not the account exists: an unknown address is
    checked against a dummy hash made with the same method and cost, so the answer's
    timing does not tell which addresses have accounts.
    """
    user = find_user(email) if len(email) <= 254 else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or user.disabled:
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user`` on every device (the caller commits)."""
    user.session_generation = (user.session_generation or 0) + 1
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password under the policy; every session of theirs ends."""
    context = [user.organisation.name] if user.organisation else []
    check_password(password, user.email, *context)
    if check_password_hash(user.password_hash, password):
        raise ServiceError("Choose a password different from the current one.")
    user.password_hash = generate_password_hash(password)
    db.session.execute(
        sa.update(PasswordReset).where(PasswordReset.user_id == user.id).values(used=True)
    )
    end_sessions(user)


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise ServiceError("The current password is not right. Type it again.")
    set_password(user, new)


def disable_user(user: User) -> None:
    """The account can no longer sign in; its sessions and API tokens stop working."""
    user.disabled = True
    end_sessions(user)


def enable_user(user: User) -> None:
    user.disabled = False
    db.session.flush()


# Password resets ---------------------------------------------------------------------


def _hash_reset(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_reset(user: User, minutes: int) -> str:
    """A single-use secret for a reset link valid for ``minutes``; only its hash is kept.

    Issuing one cancels the user's earlier unused links.
    """
    if user.disabled:
        raise ServiceError(f"The account {user.email} is disabled; enable it first.")
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used.is_(False))
        .values(used=True)
    )
    secret = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_hash_reset(secret),
            expires_at=utcnow() + dt.timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    return secret


def reset_for(secret: str) -> PasswordReset | None:
    """The valid (unused, unexpired, enabled user) reset for ``secret``, or None."""
    if not secret or len(secret) > 100:
        return None
    reset = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == _hash_reset(secret))
    )
    if reset is None or reset.used or reset.expires_at <= utcnow() or reset.user.disabled:
        return None
    return reset


def complete_reset(reset: PasswordReset, password: str) -> User:
    """Set the new password and use up the link (and every other link of the user)."""
    user = reset.user
    set_password(user, password)
    reset.used = True
    db.session.flush()
    return user
