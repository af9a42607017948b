"""Two-step sign-in with time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

A code is six digits from HMAC-SHA1 over the 30-second step; we accept the step
before and after the current one (clock drift) and each step only once, so a code
seen over a shoulder cannot be replayed. Wrong codes count as failed sign-ins in
the throttle, which bounds guessing: 10^6 codes against a few attempts a minute.
"""

from __future__ import annotations

import io
import time

import pyotp
from markupsafe import Markup

from ..extensions import db
from ..models import User
from . import ServiceError

ISSUER = "Social business maturity"


def new_secret() -> str:
    """A fresh 160-bit secret, base32 as authenticator apps expect."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG (no script, no style attribute)."""
    import segno

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=5,
        border=4,
        dark="#000",
        light="#fff",
    )
    return Markup(buffer.getvalue().decode("ascii"))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _normalise(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step whose code equals ``code`` (current, previous or next), or None."""
    code = _normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step = int(now) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None


def verify(user: User, code: str, now: float | None = None) -> bool:
    """Check ``code`` for ``user`` and use it up. The caller commits."""
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def enable(user: User, secret: str, code: str, now: float | None = None) -> None:
    """Switch two-step sign-in on once the user has shown a code from ``secret``."""
    step = matching_step(secret, code, now)
    if step is None:
        raise ServiceError(
            "That code does not match. Check that the app shows the account you just "
            "added, and type the six digits it shows now."
        )
    user.totp_secret = secret
    user.totp_last_step = step
    db.session.flush()


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    db.session.flush()
