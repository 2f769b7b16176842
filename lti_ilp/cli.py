"""The ``lti-ilp`` command line."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask

from .settings import SettingsError


def _app() -> Flask:
    from . import create_app

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """Run and manage the lti-ilp learning plan tool. Settings come from ILP_* variables."""


@main.command("init-db")
def init_db() -> None:
    """Create the database schema, or upgrade it to the newest version."""
    from .db_schema import upgrade_schema

    app = _app()
    with app.app_context():
        upgrade_schema()
    click.echo("database schema is up to date")


@main.group()
def keys() -> None:
    """Manage the tool's RSA signing keys."""


@keys.command("generate")
def keys_generate() -> None:
    """Create a signing key: the current key if there is none, else the next key."""
    from .extensions import db
    from .keys.service import generate_key

    app = _app()
    with app.app_context():
        key = generate_key()
        db.session.commit()
        click.echo(f"created key {key.kid} ({key.status})")


@keys.command("list")
def keys_list() -> None:
    """List the tool's keys with their status."""
    from .keys.service import key_role, list_keys

    app = _app()
    with app.app_context():
        for key in list_keys():
            click.echo(
                f"{key.kid}  {key.status:8}  created {key.created_at:%Y-%m-%d %H:%M}  "
                f"{key_role(key)}"
            )
    click.echo(
        "rule: the JWKS publishes next, current and previous keys; only the current key "
        "signs. `keys rotate` makes the next key current and keeps the old one published "
        "as previous; `keys retire` removes a key from the JWKS."
    )


@keys.command("rotate")
def keys_rotate() -> None:
    """Make the next key current; the old current key stays published until retired."""
    from .extensions import db
    from .keys.service import SigningKeyError, rotate_keys

    app = _app()
    with app.app_context():
        try:
            rotation = rotate_keys()
        except SigningKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"current:  {rotation.current.kid} (signs from now on)")
        click.echo(f"previous: {rotation.previous.kid} (still published; retire it later)")
        click.echo(f"next:     {rotation.next.kid} (published, signs after the next rotation)")
        if rotation.current_was_unpublished:
            click.echo(
                "warning: there was no next key, so the new current key was never "
                "published before; platforms that cached the JWKS fetch it again when they "
                "see its kid.",
                err=True,
            )


@keys.command("retire")
@click.argument("kid", required=False)
@click.option(
    "--force", is_flag=True, help="Retire a previous key even within 10 minutes of its rotation."
)
def keys_retire(kid: str | None, force: bool) -> None:
    """Remove key KID from the JWKS and erase its private key; without KID, every
    previous key."""
    from .extensions import db
    from .keys.service import SigningKeyError, retire_key, retire_previous_keys

    app = _app()
    with app.app_context():
        try:
            retired = [retire_key(kid, force=force)] if kid else retire_previous_keys(force=force)
        except SigningKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        if not retired:
            click.echo("no previous key to retire")
        for key in retired:
            click.echo(f"retired {key.kid}")


@main.command("registration-link")
@click.option(
    "--valid-hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, 720),
    help="Hours until the link's one-time access code expires.",
)
def registration_link(valid_hours: int) -> None:
    """Print a Dynamic Registration URL with a one-time access code, to paste into the LMS."""
    from datetime import timedelta

    from .extensions import db
    from .registration.service import create_access_code
    from .registration.views import registration_url

    app = _app()
    if not app.config["ILP_SETTINGS"].base_url:
        raise click.ClickException(
            "ILP_BASE_URL is not set, so the tool does not know its public address; set it "
            "to the https:// URL that LMSs use to reach the tool"
        )
    with app.app_context(), app.test_request_context():
        code = create_access_code(timedelta(hours=valid_hours))
        db.session.commit()
        click.echo(registration_url(code))


@main.group()
def admin() -> None:
    """Manage admin console logins."""


@admin.command("create")
@click.option("--username", required=True, help="The login name for the admin console.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
def admin_create(username: str, password_stdin: bool) -> None:
    """Create an admin console login; the password is prompted for unless --password-stdin."""
    from .admin.auth import AdminAccountError, create_admin
    from .extensions import db

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    with app.app_context():
        try:
            user = create_admin(username, password)
        except AdminAccountError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"admin {user.username!r} created; sign in at /admin/login")


@main.group()
def platforms() -> None:
    """Manage LMS registrations."""


@platforms.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. its base URL.")
@click.option("--client-id", required=True, help="The client_id the LMS gave the tool.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    required=True,
    help="A deployment id to allow; repeat the option for several.",
)
@click.option("--auth-login-url", required=True, help="The LMS's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The LMS's OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="The LMS's public JWKS URL.")
@click.option(
    "--auth-token-audience",
    default=None,
    help="The audience for token requests, when it differs from the token URL (Brightspace).",
)
def platforms_add(
    issuer,
    client_id,
    deployment_ids,
    auth_login_url,
    auth_token_url,
    key_set_url,
    auth_token_audience,
) -> None:
    """Register an LMS, or add deployments to an existing registration."""
    from .extensions import db
    from .platforms.service import RegistrationError, RegistrationValues, add_registration

    app = _app()
    with app.app_context():
        values = RegistrationValues(
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            key_set_url=key_set_url,
            auth_token_audience=auth_token_audience,
        )
        try:
            registration = add_registration(values, list(deployment_ids))
        except RegistrationError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        deployments = ", ".join(d.deployment_id for d in registration.deployments)
        click.echo(
            f"registration {registration.id}: {issuer} client_id {client_id}; "
            f"deployments: {deployments}"
        )


def _set_registration_active(issuer: str, client_id: str, active: bool) -> None:
    from .extensions import db
    from .platforms.service import find_registration
    from .registration.service import activate_registration, deactivate_registration

    app = _app()
    with app.app_context():
        registration = find_registration(issuer, client_id)
        if registration is None:
            raise click.ClickException(
                f"no registration for issuer {issuer} with client_id {client_id}; see "
                "`lti-ilp platforms list`"
            )
        if active:
            activate_registration(registration, "cli")
        else:
            deactivate_registration(registration, "cli")
        db.session.commit()
        state = "active" if active else "inactive"
        click.echo(f"registration {registration.id}: {issuer} client_id {client_id} is {state}")


@platforms.command("activate")
@click.option("--issuer", required=True, help="The platform's issuer (iss).")
@click.option("--client-id", required=True, help="The client_id of the registration.")
def platforms_activate(issuer: str, client_id: str) -> None:
    """Approve a registration (e.g. one made by Dynamic Registration)."""
    _set_registration_active(issuer, client_id, True)


@platforms.command("deactivate")
@click.option("--issuer", required=True, help="The platform's issuer (iss).")
@click.option("--client-id", required=True, help="The client_id of the registration.")
def platforms_deactivate(issuer: str, client_id: str) -> None:
    """Reject every launch of a registration until it is activated again."""
    _set_registration_active(issuer, client_id, False)


@platforms.command("approval-rule")
@click.option(
    "--rule",
    type=click.Choice(["manual", "trusted_issuers"]),
    required=True,
    help="manual: every Dynamic Registration waits for approval; trusted_issuers: "
    "registrations from --trusted-issuer are active at once.",
)
@click.option(
    "--trusted-issuer",
    "trusted_issuers",
    multiple=True,
    help="An issuer URL to trust; repeat the option for several.",
)
def platforms_approval_rule(rule: str, trusted_issuers: tuple[str, ...]) -> None:
    """Set how registrations made by Dynamic Registration are approved."""
    from .extensions import db
    from .platforms.service import RegistrationError
    from .registration.service import set_policy

    app = _app()
    with app.app_context():
        try:
            policy = set_policy(rule, list(trusted_issuers))
        except RegistrationError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        trusted = ", ".join(policy.trusted_issuers) or "none"
        click.echo(f"approval rule: {policy.approval_rule}; trusted issuers: {trusted}")


@platforms.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def platforms_list(as_json: bool) -> None:
    """Show every registration and its deployments."""
    from .platforms.service import list_registrations

    app = _app()
    with app.app_context():
        rows = [
            {
                "id": registration.id,
                "issuer": registration.issuer,
                "client_id": registration.client_id,
                "active": registration.active,
                "auth_login_url": registration.auth_login_url,
                "auth_token_url": registration.auth_token_url,
                "key_set_url": registration.key_set_url,
                "deployments": [d.deployment_id for d in registration.deployments],
            }
            for registration in list_registrations()
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no registrations; add one with `lti-ilp platforms add`")
    for row in rows:
        state = "active" if row["active"] else "inactive"
        click.echo(f"{row['id']}: {row['issuer']}  client_id {row['client_id']}  ({state})")
        click.echo(f"    deployments: {', '.join(row['deployments']) or 'none'}")
        click.echo(f"    login: {row['auth_login_url']}")
        click.echo(f"    token: {row['auth_token_url']}")
        click.echo(f"    keys:  {row['key_set_url']}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port to bind.")
@click.option(
    "--workers", default=2, show_default=True, type=int, help="Number of gunicorn workers."
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the tool under gunicorn."""
    from .server import run_gunicorn

    _app()  # Fail here, with a readable message, on bad settings.
    run_gunicorn(host, port, workers)


@main.command("sync")
@click.option("--once", is_flag=True, help="Send every score that is due now, then exit.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Number of worker threads, each with its own database connection.",
)
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between rounds when running continuously.",
)
def sync(once: bool, workers: int, interval: float) -> None:
    """Send queued scores to the LMS gradebooks (Assignment and Grade Services)."""
    from .grades.worker import run_sync

    report = run_sync(_app(), once=once, workers=workers, interval=interval)
    if once:
        click.echo(f"sent {report.sent}, failed {report.failed}, retrying {report.retrying}")


@main.command("demo")
@click.option("--tool-port", default=5000, show_default=True, type=int)
@click.option("--lms-port", default=5001, show_default=True, type=int)
def demo(tool_port: int, lms_port: int) -> None:
    """Run the tool and the demo LMS on localhost, set up on first run."""
    try:
        from .demo.runner import run_demo
    except ImportError as exc:
        raise click.ClickException(
            f"the demo LMS needs the demo extras ({exc.name} is missing); "
            "install them with: pip install -e '.[demo]'"
        ) from exc
    run_demo(tool_port=tool_port, lms_port=lms_port)


def _add_worker_commands() -> None:
    from .nudges.commands import nudges, roster_sync

    main.add_command(roster_sync)
    main.add_command(nudges)

    from .privacy.cli import privacy

    main.add_command(privacy)


_add_worker_commands()

if __name__ == "__main__":
    sys.exit(main())
