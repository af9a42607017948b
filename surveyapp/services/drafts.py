"""Unsubmitted answers sealed with a key that only the respondent's link gives.

A draft is encrypted with AES-256-GCM under a key derived from the raw survey token
with HKDF-SHA256. The database stores only the token's SHA-256 (for lookup), which
is a different function of the token, so a copy of the database cannot open a draft.
The server knows the token only while the respondent's own request runs.

Sealed form: one version byte, a 12-byte random nonce, then ciphertext and tag. The
version byte and the invitation id are authenticated as associated data, so a blob
copied to another invitation's row is refused like a tampered one. No I/O here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import ServiceError

FORMAT_VERSION = 1
# A label of its own, so this key can never coincide with another use of the token.
KEY_INFO = b"surveyapp draft key v1"
NONCE_BYTES = 12
# Plaintext is padded to a multiple of this, so the blob's length does not tell how far
# a respondent got: every draft without a long comment has the same size.
PAD_BYTES = 2048


class DraftUnreadable(ServiceError):
    """A sealed draft that does not open with this link's key: altered, or another link's."""


@dataclass(frozen=True, slots=True)
class DraftKey:
    """The AES-256 key for one invitation's draft; never stored."""

    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DraftContent:
    """What a respondent has entered so far, and the step to resume at."""

    language: str | None = None
    role_level: str | None = None
    # {"item_id": value, or None for "don't know"}
    answers: dict[str, int | None] = field(default_factory=dict)
    comment: str | None = None
    step: str = "language"


def draft_key(token: str) -> DraftKey:
    """Derive the draft key from a raw survey token (HKDF-SHA256, not the lookup hash)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO)
    return DraftKey(hkdf.derive(token.encode("utf-8")))


def _associated_data(invitation_id: int) -> bytes:
    return bytes([FORMAT_VERSION]) + b"draft:" + str(invitation_id).encode("ascii")


def seal_draft(content: DraftContent, key: DraftKey, invitation_id: int) -> bytes:
    """Encrypt a draft for storage in the invitation's draft row."""
    plain = json.dumps(asdict(content), ensure_ascii=False, separators=(",", ":")).encode()
    # Trailing spaces are JSON whitespace, so padding needs no length field.
    plain += b" " * (-len(plain) % PAD_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key.secret).encrypt(nonce, plain, _associated_data(invitation_id))
    return bytes([FORMAT_VERSION]) + nonce + sealed


def open_draft(sealed: bytes, key: DraftKey, invitation_id: int) -> DraftContent:
    """Decrypt a stored draft; raise DraftUnreadable if it was altered or is another link's."""
    if len(sealed) <= 1 + NONCE_BYTES or sealed[0] != FORMAT_VERSION:
        raise DraftUnreadable(
            "The saved answers are not in a known format; the respondent has to start again."
        )
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        plain = AESGCM(key.secret).decrypt(nonce, ciphertext, _associated_data(invitation_id))
    except InvalidTag:
        # Not naming the invitation: a log line tying it to a time would help no one.
        raise DraftUnreadable(
            "The saved answers do not open with this link's key: they were altered or "
            "belong to another link. The respondent has to start again."
        ) from None
    data = json.loads(plain)
    return DraftContent(
        language=data["language"],
        role_level=data["role_level"],
        answers=data["answers"],
        comment=data["comment"],
        step=data["step"],
    )
