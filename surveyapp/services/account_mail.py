"""The e-mail that invites a manager to set a first password, in Dutch and English."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from .mail import build_message


def invitation_message(email: str, organisation: str, link: str, sign_in: str) -> EmailMessage:
    """Both languages in one message: we do not know which the manager reads."""
    days = current_app.config["ACCOUNT_INVITATION_DAYS"]
    parts, subjects = [], []
    for language in ("nl", "en"):
        with force_locale(language):
            subjects.append(_("Your account for the results of %(name)s", name=organisation))
            parts.append(
                render_template(
                    "auth/invite_mail.txt",
                    organisation=organisation,
                    link=link,
                    sign_in=sign_in,
                    days=days,
                )
            )
    return build_message(
        current_app.config, email, " / ".join(subjects), "\n\n-----\n\n".join(parts)
    )
