"""Worker commands: ``lti-ilp roster-sync`` and ``lti-ilp nudges ...``.

Run them from cron or a scheduler, e.g. roster sync every 15 minutes and nudges hourly.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from ..settings import SettingsError


def _app() -> Flask:
    from .. import create_app

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("roster-sync")
@click.option(
    "--all",
    "sync_all",
    is_flag=True,
    help="Sync every course with the roster service now, not only due courses.",
)
def roster_sync(sync_all: bool) -> None:
    """Sync course rosters (Names and Role Provisioning) that are due."""
    from ..rosters.service import run_due_syncs
    from .clock import now
    from .config import roster_sync_interval_hours

    app = _app()
    with app.app_context():
        interval = timedelta(0) if sync_all else timedelta(hours=roster_sync_interval_hours())
        outcomes = run_due_syncs(now(), interval)
    if not outcomes:
        click.echo("no roster is due for a sync")
    for course_id, outcome in outcomes:
        click.echo(f"course {course_id}: {outcome}")


@click.group("nudges")
def nudges() -> None:
    """Nudge quiet plans and deliver queued emails."""


@nudges.command("run")
def nudges_run() -> None:
    """Send the nudges that are due now, then deliver queued emails over SMTP."""
    from ..extensions import db
    from .clock import now
    from .config import EMAIL_SMTP, mail_settings
    from .mail import deliver_pending
    from .service import run_nudges

    app = _app()
    with app.app_context():
        report = run_nudges(now())
        db.session.commit()
        click.echo(
            f"checked {report.plans_checked} plans, sent {len(report.sent)} nudges, "
            f"{report.deferred_for_quiet_hours} waiting for quiet hours to end"
        )
        settings = mail_settings()
        if settings.mode == EMAIL_SMTP:
            sent, failed = deliver_pending(settings)
            db.session.commit()
            click.echo(f"emails sent {sent}, failed {failed}")


@nudges.command("clock")
@click.option(
    "--advance-days",
    type=click.IntRange(0, 3650),
    default=0,
    help="Move the demo clock forward by this many days.",
)
@click.option("--reset", is_flag=True, help="Set the demo clock back to real time.")
def nudges_clock(advance_days: int, reset: bool) -> None:
    """Show or move the demo clock (only with ILP_DEMO_CLOCK=true)."""
    from ..extensions import db
    from . import clock

    app = _app()
    with app.app_context():
        try:
            if reset:
                clock.reset()
            elif advance_days:
                clock.advance(timedelta(days=advance_days))
        except clock.DemoClockDisabled as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(
            f"tool time is {clock.now():%Y-%m-%d %H:%M} UTC "
            f"(offset {clock.clock_offset().days} days)"
        )
