"""``lti-ilp privacy``: export, delete and purge from the command line."""

from __future__ import annotations

import json

import click


def _app():
    from ..cli import _app as create

    return create()


def _find_person(person_id: int):
    from ..extensions import db
    from ..people.models import Person
    from .erase import is_deleted_user

    person = db.session.get(Person, person_id)
    if person is None:
        raise click.ClickException(
            f"no person with id {person_id}; the id is the internal person id shown on the "
            "privacy page of an LMS administrator launch"
        )
    if is_deleted_user(person):
        raise click.ClickException(
            f"person {person_id} is the placeholder that represents deleted people"
        )
    return person


@click.group("privacy")
def privacy() -> None:
    """Export or delete a person's data, and purge closed plans."""


@privacy.command("export")
@click.option("--person-id", required=True, type=int, help="The internal person id.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "pdf"]),
    default="json",
    show_default=True,
    help="The export format.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="The file to write; standard output when left out.",
)
@click.option(
    "--requested-by",
    default="",
    help="Who asked for the export, for the "
    "privacy log (a ticket number or an office; not the student's name).",
)
def export_command(
    person_id: int, output_format: str, output: str | None, requested_by: str
) -> None:
    """Export everything stored about one person."""
    from ..extensions import db
    from .export import SCOPE_FULL
    from .models import CHANNEL_CLI
    from .service import export_bytes, log_export

    app = _app()
    with app.app_context():
        person = _find_person(person_id)
        data = export_bytes(person, output_format)
        log_export(person, output_format, SCOPE_FULL, CHANNEL_CLI, requested_by=requested_by)
        db.session.commit()
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"wrote the {output_format} export of person {person_id} to {output}", err=True)
    else:
        click.echo(data, nl=False)


@privacy.command("delete")
@click.option("--person-id", required=True, type=int, help="The internal person id.")
@click.option(
    "--requested-by",
    required=True,
    help="Who asked for the deletion, for the "
    "privacy log (a ticket number or an office; not the student's name).",
)
@click.option("--yes", is_flag=True, help="Delete without asking for confirmation.")
def delete_command(person_id: int, requested_by: str, yes: bool) -> None:
    """Delete one person and everything that belongs to them."""
    from .erase import PrivacyError, delete_person
    from .models import CHANNEL_CLI

    if not requested_by.strip():
        raise click.ClickException("--requested-by must not be empty")
    app = _app()
    with app.app_context():
        person = _find_person(person_id)
        if not yes:
            click.confirm(
                f"Delete person {person_id} and all their plans? This cannot be undone.",
                abort=True,
            )
        try:
            result = delete_person(person, channel=CHANNEL_CLI, requested_by=requested_by.strip())
        except PrivacyError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"deleted person {person_id}: {sum(result.removed.values())} rows removed, "
        f"{sum(result.reassigned.values())} rows now show the Deleted user; "
        f"privacy log entry {result.log_entry_id}"
    )
    click.echo(
        json.dumps(
            {
                "removed": result.removed,
                "reassigned": result.reassigned,
                "detached": result.detached,
            },
            indent=2,
            sort_keys=True,
        )
    )


@privacy.command("purge-closed")
@click.option(
    "--older-than-years",
    type=int,
    default=None,
    help="Purge plans closed more than this many years ago. Defaults to ILP_RETENTION_YEARS.",
)
@click.option("--dry-run", is_flag=True, help="List the plans without deleting them.")
def purge_command(older_than_years: int | None, dry_run: bool) -> None:
    """Delete closed plans older than the retention period, and expired sessions and logins."""
    from flask import current_app

    from ..extensions import db
    from ..lti.state import purge_expired_states
    from .erase import (
        PrivacyError,
        closed_plans_before,
        purge_closed_plans,
        purge_expired_sessions,
        retention_cutoff,
    )

    app = _app()
    with app.app_context():
        years = older_than_years
        if years is None:
            years = current_app.config["ILP_SETTINGS"].retention_years
        if not years or years < 1:
            raise click.ClickException(
                "no retention period: pass --older-than-years N or set ILP_RETENTION_YEARS "
                "to a whole number of years (1 or more)"
            )
        if dry_run:
            plans = closed_plans_before(retention_cutoff(years))
            for plan in plans:
                click.echo(
                    f"plan {plan.id} of person {plan.person_id}, closed {plan.closed_at:%Y-%m-%d}"
                )
            click.echo(f"{len(plans)} closed plans are older than {years} years")
            return
        try:
            results = purge_closed_plans(years)
        except PrivacyError as exc:
            raise click.ClickException(str(exc)) from exc
        sessions = purge_expired_sessions()
        states = purge_expired_states()
        db.session.commit()
    click.echo(f"purged {len(results)} plans closed more than {years} years ago")
    click.echo(f"deleted {sessions} launch sessions that expired more than a day ago")
    click.echo(f"deleted {states} expired logins in progress")
