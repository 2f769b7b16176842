"""``lti-ilp demo``: the tool and the demo LMS in one process, set up on first run.

``set_up_demo`` prepares everything the demo needs before serving and is safe to run again.
It upgrades the database schema and creates the tool's signing key, the demo LMS's own RSA
key, the registration of the demo LMS in the tool and a seeded cohort of 70 teachers with
growth plans. A second run reuses each of them.
``run_demo`` then serves the tool and the LMS with two threaded werkzeug servers that listen
on 127.0.0.1 only, because the demo LMS lets anyone act as any demo user.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import click
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from sqlalchemy.exc import DatabaseError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..extensions import db
from ..grades.worker import start_background_sync
from .jobs import start_roster_sync_thread
from .lms import DemoLms, create_lms_app
from .platform import DemoPlatform, ToolEndpoints, generate_private_key_pem
from .seed import PD_COURSE, PD_TEACHER_COUNT, seed_store
from .store import LmsStore

log = logging.getLogger(__name__)

CLIENT_ID = "lti-ilp-demo-lms"
DEPLOYMENT_ID = "demo-lms-deployment-1"
# The demo LMS's private key, Fernet-encrypted with the tool's key-encryption key.
PLATFORM_KEY_FILE = "demo_lms_private_key.fernet"
LISTEN_HOST = "127.0.0.1"


class DemoSetupError(RuntimeError):
    """The demo cannot be set up. The message states what to change."""


@dataclass(frozen=True)
class DemoSetup:
    tool_base_url: str
    lms_base_url: str
    registration_id: int
    platform_private_key_pem: str = field(repr=False)
    # Secret that signs the lti_message_hint the LMS sends through the tool's login.
    hint_secret: str = field(repr=False)


def set_up_demo(
    tool_app: Flask,
    *,
    tool_base_url: str,
    lms_base_url: str,
    upgrade_database: bool = True,
    seed_cohort: bool = False,
) -> DemoSetup:
    """Prepare the database, keys and registration for the demo, reusing what exists.

    ``upgrade_database=False`` skips the Alembic upgrade, for a database whose schema was
    built another way (the tests build it from the models). ``seed_cohort=True`` also seeds
    the PD cohort of 70 teacher plans, as ``lti-ilp demo`` does.
    """
    from ..growth.seed import seed_pd_cohort
    from ..keys.service import ensure_current_key
    from ..platforms.service import RegistrationError, RegistrationValues, add_registration

    settings = tool_app.config["ILP_SETTINGS"]
    values = RegistrationValues(
        issuer=lms_base_url,
        client_id=CLIENT_ID,
        auth_login_url=f"{lms_base_url}/auth",
        auth_token_url=f"{lms_base_url}/token",
        key_set_url=f"{lms_base_url}/jwks",
    )
    with tool_app.app_context():
        try:
            if upgrade_database:
                from ..db_schema import upgrade_schema

                upgrade_schema()
            ensure_current_key()
            registration = add_registration(values, [DEPLOYMENT_ID])
            db.session.commit()
            if seed_cohort:
                seed_pd_cohort(
                    registration.deployments[0], PD_TEACHER_COUNT, course_context_id=PD_COURSE
                )
        except RegistrationError as exc:
            raise DemoSetupError(f"the demo LMS cannot be registered: {exc}") from exc
        except DatabaseError as exc:
            raise DemoSetupError(
                "the database does not match this version of the tool "
                f"({_first_line(exc.orig)}). Check ILP_DATABASE_URL, or, for a demo "
                "database you do not need, delete it and run `lti-ilp demo` again."
            ) from exc
        registration_id = registration.id

    private_key_pem = load_or_create_platform_key(
        Path(settings.keys_dir), settings.key_encryption_key
    )
    log.info(
        "demo set up registration=%s issuer=%s client_id=%s deployment=%s",
        registration_id,
        lms_base_url,
        CLIENT_ID,
        DEPLOYMENT_ID,
    )
    return DemoSetup(
        tool_base_url=tool_base_url,
        lms_base_url=lms_base_url,
        registration_id=registration_id,
        platform_private_key_pem=private_key_pem,
        hint_secret=_derive_secret(settings.secret_key, "demo-lms-message-hint"),
    )


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _derive_secret(secret_key: str, purpose: str) -> str:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def load_or_create_platform_key(keys_dir: Path, key_encryption_key: str) -> str:
    """Return the demo LMS's private key PEM, creating its encrypted file on first use.

    The file contains a Fernet token, never the plain PEM, and is created with mode 0600.
    """
    path = keys_dir / PLATFORM_KEY_FILE
    fernet = Fernet(key_encryption_key.encode())
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        try:
            _write_private_file(path, fernet.encrypt(generate_private_key_pem().encode()))
            log.info("created the demo LMS key file")
        except FileExistsError:
            pass  # Another process created it first; use that one.

    try:
        return fernet.decrypt(path.read_bytes()).decode()
    except InvalidToken as exc:
        raise DemoSetupError(
            f"{path} cannot be decrypted with the tool's key-encryption key "
            "(ILP_KEY_ENCRYPTION_KEY, or key_encryption_key in the keys directory). "
            f"Delete {path} to give the demo LMS a new key."
        ) from exc


def _write_private_file(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def build_lms(setup: DemoSetup, store: LmsStore | None = None) -> DemoLms:
    """Make the demo LMS for ``setup``, with the seeded demo data unless ``store`` is given."""
    store = store or seed_store()
    tool = setup.tool_base_url
    platform = DemoPlatform(
        issuer=setup.lms_base_url,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        private_key_pem=setup.platform_private_key_pem,
        tool=ToolEndpoints(
            login_url=f"{tool}/lti/login",
            launch_url=f"{tool}/lti/launch",
            jwks_url=f"{tool}/lti/jwks",
        ),
        users=store.user_directory(),
        hint_secret=setup.hint_secret,
    )
    return DemoLms(
        platform=platform,
        store=store,
        base_url=setup.lms_base_url,
        tool_base_url=setup.tool_base_url,
    )


_SESSION_PATH = re.compile(r"^/s/[^/?]+")


def redact_path(raw_path: str) -> str:
    """Drop the query string and the launch token from a request path, for the log.

    Query strings carry OIDC state, nonce and hints, and ``/s/<token>/`` paths carry a
    launch session token.
    """
    path = raw_path.split("?", 1)[0]
    return _SESSION_PATH.sub("/s/<token>", path)


class _RedactingRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = redact_path(getattr(self, "path", "") or "")
        log.info("%s %s %s %s", self.server.server_port, self.command, path, code)


def run_demo(tool_port: int = 5000, lms_port: int = 5001) -> None:
    """Set up the demo on first run, then serve the tool and the LMS until Ctrl+C."""
    from .. import create_app
    from ..settings import Settings, SettingsError

    if tool_port == lms_port:
        raise click.ClickException("--tool-port and --lms-port must be different ports")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    tool_base_url = f"http://localhost:{tool_port}"
    lms_base_url = f"http://localhost:{lms_port}"
    try:
        settings = Settings.from_env()
        settings.base_url = tool_base_url
        # The demo shows nudges without a mail server and lets the visitor move time.
        settings.extra.setdefault("demo_clock", True)
        settings.extra.setdefault("email_mode", "outbox")
        tool_app = create_app(settings)
        setup = set_up_demo(
            tool_app, tool_base_url=tool_base_url, lms_base_url=lms_base_url, seed_cohort=True
        )
    except (SettingsError, DemoSetupError) as exc:
        raise click.ClickException(str(exc)) from exc
    lms_app = create_lms_app(build_lms(setup))

    tool_server = _bind(tool_app, tool_port, "--tool-port")
    lms_server = _bind(lms_app, lms_port, "--lms-port")
    _print_start_up(setup, settings)
    stop_jobs = threading.Event()
    start_roster_sync_thread(tool_app, stop_jobs)
    if "ilp_grade_sync" not in tool_app.extensions:
        # Started only now, after set-up has created the tables it reads.
        start_background_sync(tool_app, interval=5.0)
    try:
        _serve_until_interrupted([tool_server, lms_server])
    finally:
        stop_jobs.set()


def _bind(app: Flask, port: int, option: str) -> BaseWSGIServer:
    try:
        return make_server(
            LISTEN_HOST, port, app, threaded=True, request_handler=_RedactingRequestHandler
        )
    except SystemExit as exc:
        # werkzeug prints the cause (such as "Address already in use") and exits.
        raise click.ClickException(
            f"cannot listen on {LISTEN_HOST}:{port}; stop the program that uses it, or "
            f"choose another port with {option}"
        ) from exc


def _print_start_up(setup: DemoSetup, settings) -> None:
    click.echo("")
    click.echo(f"Demo LMS:  {setup.lms_base_url}/   <- open this address in your browser")
    click.echo(f"ILP tool:  {setup.tool_base_url}/  (the LMS shows it inside its course pages)")
    click.echo(f"Database:  {_without_password(settings.database_url)}")
    click.echo(f"Keys:      {settings.keys_dir}")
    click.echo("Plans are kept in the database between runs. Press Ctrl+C to stop.")
    click.echo("")


def _without_password(database_url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", database_url)


def _serve_until_interrupted(servers: list[BaseWSGIServer]) -> None:
    threads = [
        threading.Thread(
            target=server.serve_forever, name=f"demo-{server.server_port}", daemon=True
        )
        for server in servers
    ]
    for thread in threads:
        thread.start()
    log.info("demo started ports=%s", ",".join(str(s.server_port) for s in servers))
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        click.echo("\nStopping the demo.")
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        log.info("demo stopped")
