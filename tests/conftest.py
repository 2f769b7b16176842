"""Shared fixtures: the app on a real database, a tool server and platform servers.

The suite runs on SQLite by default, and on PostgreSQL when TEST_DATABASE_URL is set. The
schema is built once per run from the models, and every table is emptied before each test.
test_migrations.py checks that the Alembic migrations build the same schema.
"""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, text

from lti_ilp import create_app
from lti_ilp.extensions import db
from lti_ilp.keys.service import generate_key
from lti_ilp.platforms.service import RegistrationValues, add_registration
from lti_ilp.settings import Settings

from .harness import Browser, PlatformHost, ServerThread


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    keys_dir = tmp_path_factory.mktemp("keys")
    return Settings(
        database_url=_database_url(tmp_path_factory),
        secret_key="test-secret-key",
        keys_dir=keys_dir,
        key_encryption_key=Fernet.generate_key().decode(),
        # Every test request comes from 127.0.0.1; tests/security checks the limits.
        rate_limit_login=0,
        rate_limit_launch=0,
    )


@pytest.fixture(scope="session")
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.app_context():
        _drop_everything()
        db.create_all()
    return app


def _drop_everything() -> None:
    """Start from an empty database, including the Alembic version table."""
    existing = MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


@pytest.fixture(autouse=True)
def clean_tables(request, settings):
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _empty_tables()
    yield
    with app.app_context():
        db.session.remove()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            # Table names come from our own metadata, never from input.
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # noqa: S608
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


@pytest.fixture(scope="session")
def tool_server(app):
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def platform_host():
    host = PlatformHost()
    yield host
    host.server.stop()


@pytest.fixture
def tool_key(app):
    with app.app_context():
        key = generate_key()
        db.session.commit()
        return key.kid


def register(app, platform, deployment_ids=None):
    """Register ``platform`` with the tool, as ``lti-ilp platforms add`` would."""
    with app.app_context():
        registration = add_registration(
            RegistrationValues(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_url,
                auth_token_url=platform.auth_url.replace("/auth", "/token"),
                key_set_url=platform.jwks_url,
            ),
            deployment_ids or [platform.deployment_id],
        )
        db.session.commit()
        return registration.id


@pytest.fixture
def platform(app, tool_server, platform_host, tool_key, request):
    """A registered platform, fresh for each test."""
    name = "lms-" + request.node.name.replace("[", "-").replace("]", "")[:40]
    platform = platform_host.add(name, tool_server.url)
    register(app, platform)
    return platform


@pytest.fixture
def browser():
    return Browser()
