"""``surveyapp db check-answers``: the packed answers agree with the answer table.

Joins Flask-Migrate's ``db`` group (see :func:`surveyapp.cli.register`), beside
``db upgrade``: both are about the database itself rather than about surveys.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

SHOWN_IDS = 10  # response ids printed per campaign; the count is always complete


@click.command("check-answers")
@click.option("--campaign", "campaign_id", type=int, help="Check this campaign only.")
@click.option(
    "--repair",
    is_flag=True,
    help="Rewrite the packed answers that differ from the answer table, which is the "
    "source of truth.",
)
@with_appcontext
def check_answers(campaign_id: int | None, repair: bool) -> None:
    """Compare each response's packed answers with its answer rows; exit 1 if any differ.

    Reports and answer files read the packed copy (response.answer_codes); every writer
    stores it with the answer rows, so a difference means something wrote around the
    app. With --repair the differing copies are rebuilt from the answer rows.
    """
    import sqlalchemy as sa

    from .cli import transaction
    from .extensions import db
    from .models import Campaign
    from .services import ServiceError
    from .services.campaigns import find_campaign
    from .services.matrix import packed_mismatches, repack_answers

    if campaign_id is not None:
        try:
            campaigns = [find_campaign(campaign_id)]
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        campaigns = list(db.session.scalars(sa.select(Campaign).order_by(Campaign.id)))
    differing = 0
    for campaign in campaigns:
        ids = packed_mismatches(campaign)
        if not ids:
            continue
        differing += len(ids)
        shown = ", ".join(str(i) for i in ids[:SHOWN_IDS]) + (
            ", ..." if len(ids) > SHOWN_IDS else ""
        )
        click.echo(
            f"Campaign {campaign.id}: {len(ids)} responses whose packed answers differ from "
            f"the answer table (response ids {shown})."
        )
        if repair:
            with transaction():
                repack_answers(campaign)
            click.echo(f"Campaign {campaign.id}: rebuilt from the answer table.")
    checked = f"{len(campaigns)} campaign{'s' if len(campaigns) != 1 else ''}"
    if not differing:
        click.echo(f"Checked {checked}: every packed answer agrees with the answer table.")
        return
    if repair:
        click.echo(f"Checked {checked}: {differing} responses rebuilt from the answer table.")
        return
    click.echo(
        f"Checked {checked}: {differing} responses differ. Run 'surveyapp db check-answers "
        "--repair' to rebuild them from the answer table.",
        err=True,
    )
    raise SystemExit(1)
