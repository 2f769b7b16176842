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
    from .keys.service import list_keys

    app = _app()
    with app.app_context():
        for key in list_keys():
            click.echo(f"{key.kid}  {key.status:8}  created {key.created_at:%Y-%m-%d %H:%M}")


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
    issuer, client_id, deployment_ids, auth_login_url, auth_token_url, key_set_url,
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


if __name__ == "__main__":
    sys.exit(main())
