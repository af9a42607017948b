"""The password policy: long, and not guessable from common passwords, words or the account.

Length alone lets "Password2026!" through. zxcvbn (Wheeler, USENIX Security 2016)
estimates how many guesses an attacker who knows common passwords, names, English
words, keyboard patterns, dates and l33t substitutions would need; we ask for at least
10^10, its top score, with the account's own e-mail address and the product's words
added to its dictionaries. The estimate runs offline: no password leaves the server.
"""

from __future__ import annotations

import re

from . import ServiceError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_GUESSES_LOG10 = 10.0
# Words an attacker would try first against this product.
PRODUCT_WORDS = (
    "surveyapp",
    "survey",
    "social",
    "business",
    "maturity",
    "consultant",
    "manager",
    "password",
    "wachtwoord",
    "welkom",
    "enquete",
)


class WeakPassword(ServiceError):
    """The password does not meet the policy; the message says why and what to do.

    ``kind`` ("short", "long", "spaces" or "guessable") lets a page say it in the
    reader's language.
    """

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def _user_inputs(email: str | None, extra: tuple[str, ...]) -> list[str]:
    words = list(PRODUCT_WORDS) + [w for w in extra if w]
    if email:
        email = email.strip().lower()
        words.append(email)
        words.extend(part for part in re.split(r"[@._+-]", email) if len(part) > 2)
    return words


def check_password(password: str, email: str | None = None, *context: str) -> None:
    """Raise :class:`WeakPassword` unless ``password`` meets the policy.

    ``context`` adds words the password must not be built from, such as the
    organisation's name.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"The password must have at least {MIN_LENGTH} characters. A sentence or four "
            "unrelated words are easy to remember and hard to guess.",
            "short",
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"The password can have at most {MAX_LENGTH} characters.", "long")
    if password.strip() != password or any(ord(c) < 32 for c in password):
        raise WeakPassword(
            "The password cannot start or end with a space or contain control characters.",
            "spaces",
        )
    from zxcvbn import zxcvbn  # imported here: its dictionaries take memory

    result = zxcvbn(password[:100], user_inputs=_user_inputs(email, context))
    if result["guesses_log10"] < MIN_GUESSES_LOG10:
        warning = result["feedback"].get("warning") or ""
        reason = f" ({warning.rstrip('.')})" if warning else ""
        raise WeakPassword(
            f"This password is too easy to guess{reason}. Avoid common passwords, your "
            "e-mail address, names, dates and keyboard patterns; four or more unrelated "
            "words work well.",
            "guessable",
        )
