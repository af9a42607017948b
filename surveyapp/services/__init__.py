"""Use-cases: the only layer that combines the database session with questionnaires and scoring.

Functions here add and flush but never commit: the calling view or CLI command owns the
transaction, so a rejected import or submission leaves nothing behind.
"""

from __future__ import annotations


class ServiceError(ValueError):
    """A request that cannot be carried out, with a message a user can act on."""
